"""The gate of notifications: a user reads and marks only their own.

- Reading: `Notification.objects.visible_to(user)` (the recipient's own, nobody else's,
  administrators included).
- `notifications.use_inbox`: every signed-in user has an inbox (the page, the API list,
  "mark all as read").
- `notifications.change_notification` (object: the notification): only its recipient
  marks it read.
"""

from __future__ import annotations

import rules

from sharedsvc.rules import signed_in


@rules.predicate
def is_recipient(user, notification) -> bool:
    return bool(
        notification is not None and signed_in(user) and notification.recipient_id == user.pk
    )


rules.add_perm("notifications.use_inbox", signed_in)
rules.add_perm("notifications.view_notification", is_recipient)
rules.add_perm("notifications.change_notification", is_recipient)
