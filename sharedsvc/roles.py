"""The five roles of DESIGN.md."""

from django.db import models


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", "Administrator"
    ANALYST = "analyst", "Analyst"
    DEPARTMENT_MANAGER = "department_manager", "Department manager"
    DEPUTY_MINISTER = "deputy_minister", "Deputy minister"
    PROVIDER_MANAGER = "provider_manager", "Provider manager"


# Roles that act for a department (a deputy minister is also a manager of their own).
DEPARTMENT_ROLES = (Role.DEPARTMENT_MANAGER, Role.DEPUTY_MINISTER)
