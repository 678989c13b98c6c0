"""The five roles of DESIGN.md, and "no role yet" for a person who signed in with single
sign-on before an administrator gave them one (roles stay assigned in the application)."""

from django.db import models


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", "Administrator"
    ANALYST = "analyst", "Analyst"
    DEPARTMENT_MANAGER = "department_manager", "Department manager"
    DEPUTY_MINISTER = "deputy_minister", "Deputy minister"
    PROVIDER_MANAGER = "provider_manager", "Provider manager"
    # Neither department nor provider; may use nothing until given a role (sharedsvc.rules).
    UNASSIGNED = "unassigned", "No role yet"


# Roles that act for a department (a deputy minister is also a manager of their own).
DEPARTMENT_ROLES = (Role.DEPARTMENT_MANAGER, Role.DEPUTY_MINISTER)
