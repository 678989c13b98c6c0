from django.urls import path

from clusters import views

app_name = "clusters"

# The department and cluster pages span the apps: `web.urls` adds them to this namespace.

urlpatterns = [
    path("departments/", views.department_list, name="department-list"),
    path("clusters/", views.cluster_list, name="cluster-list"),
    path("services/", views.service_list, name="service-list"),
]
