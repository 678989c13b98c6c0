"""factory_boy factories for every model; services are not bypassed for behaviour tests,
but factories make the world a test stands in."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from clusters.models import (
    Category,
    Cluster,
    Department,
    Direction,
    Membership,
    Provider,
    ProviderKind,
    Service,
    Standard,
    StandardKind,
)
from sharedsvc.models import User
from sharedsvc.roles import Role

PASSWORD = "correct-horse-battery-staple"


class DepartmentFactory(DjangoModelFactory[Department]):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Ministry {o.code}")
    is_main = True
    active = True


class ProviderFactory(DjangoModelFactory[Provider]):
    class Meta:
        model = Provider
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Provider {o.code}")
    kind = ProviderKind.EXTERNAL
    host_department = None


class ServiceFactory(DjangoModelFactory[Service]):
    class Meta:
        model = Service
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Service {o.code}")
    category = Category.PAYROLL
    charging_unit = "employee"


class StandardFactory(DjangoModelFactory[Standard]):
    class Meta:
        model = Standard

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Standard {n}")
    kind = StandardKind.OPERATIONAL
    unit = "%"
    target = Decimal("95.0")
    direction = Direction.HIGHER_IS_BETTER


class ClusterFactory(DjangoModelFactory[Cluster]):
    class Meta:
        model = Cluster
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"C{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Cluster {o.code}")
    service = factory.SubFactory(ServiceFactory)
    provider = factory.SubFactory(ProviderFactory)


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    department = factory.SubFactory(DepartmentFactory)
    cluster = factory.SubFactory(ClusterFactory)
    service = factory.SelfAttribute("cluster.service")
    joined_on = datetime.date(2025, 4, 1)
    leaves_on = None
    usage_units = 100
    baseline_annual_cost = Decimal("120000.00")


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.gov")
    role = Role.ANALYST
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()
