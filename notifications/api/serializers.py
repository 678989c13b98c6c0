from __future__ import annotations

from rest_framework import serializers

from notifications.models import Notification, NotificationKind


class NotificationSerializer(serializers.ModelSerializer):
    """One of your notifications: what happened, a link to it in the site, when, and
    whether you have read it. Its `body` is the text of its email."""

    recipient = serializers.CharField(
        source="recipient.username", read_only=True, help_text="Your username."
    )
    kind = serializers.ChoiceField(choices=NotificationKind.choices, read_only=True)
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "recipient",
            "kind",
            "subject",
            "body",
            "link",
            "created_at",
            "read",
            "read_at",
            "emailed_at",
        ]
        read_only_fields = fields


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread until now.")
