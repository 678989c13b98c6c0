"""A cluster's service cannot change while it has memberships, whatever the door.

The composite key from a membership to (cluster, service) followed a change of the
cluster's service with ON UPDATE CASCADE, which silently moved the memberships to another
service. Now the database refuses the change (NO ACTION, checked at the end of the
statement); `cluster_update` says why before it gets there.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("clusters", "0002_references_constraints_and_audit")]

    operations = [
        migrations.RunSQL(
            sql=(
                "ALTER TABLE clusters_membership DROP CONSTRAINT membership_service_is_clusters;"
                "ALTER TABLE clusters_membership ADD CONSTRAINT membership_service_is_clusters "
                "FOREIGN KEY (cluster_id, service_id) REFERENCES clusters_cluster (id, service_id)"
            ),
            reverse_sql=(
                "ALTER TABLE clusters_membership DROP CONSTRAINT membership_service_is_clusters;"
                "ALTER TABLE clusters_membership ADD CONSTRAINT membership_service_is_clusters "
                "FOREIGN KEY (cluster_id, service_id) REFERENCES clusters_cluster (id, service_id) "
                "ON UPDATE CASCADE"
            ),
        ),
    ]
