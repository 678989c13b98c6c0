"""The API's one permission gate: sign-in to read, a role permission to write.

What a reader may see is decided by each queryset's `visible_to(user)`, not here.
"""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from sharedsvc.sso import NO_ROLE_API

ACTION_BY_METHOD = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


def _handles(view, method: str) -> bool:
    name = method.lower()
    return name in view.http_method_names and hasattr(view, name)


class RolePermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if not user.has_perm("sharedsvc.use_service"):
            # Signed in, but no role yet (a new single sign-on user): 403 with why.
            raise PermissionDenied(NO_ROLE_API)
        if request.method in SAFE_METHODS:
            return True
        if not _handles(view, request.method):
            # Let the view answer 405 Method Not Allowed rather than a misleading 403.
            return True
        perm = getattr(view, "write_permission", None)
        if perm is None:
            model = view.get_queryset().model
            action = ACTION_BY_METHOD.get(request.method, "change")
            perm = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        return user.has_perm(perm)
