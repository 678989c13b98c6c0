"""The named people of the test suite, in one place (like healthchecks' hc/test.py).

A small world: the PSOA (housed by FIN), a providing department (TECH runs IT for others),
an outside firm; departments LCS (our manager's), ENV (another manager's), and board seats.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model
from factory.django import DjangoModelFactory

from clusters.models import Cluster, Department, Membership, Provider, ProviderKind, Service
from sharedsvc.models import User
from sharedsvc.roles import Role
from tests.factories import (
    ClusterFactory,
    DepartmentFactory,
    MembershipFactory,
    ProviderFactory,
    ServiceFactory,
    StandardFactory,
    UserFactory,
)


@dataclass
class World:
    lcs: Department
    env: Department
    fin: Department
    tech: Department
    psoa: Provider
    tech_provider: Provider
    outside: Provider
    payroll: Service
    it: Service
    pay_psoa: Cluster
    pay_tech: Cluster
    it_tech: Cluster
    lcs_payroll: Membership
    env_payroll: Membership
    tech_payroll: Membership
    lcs_it: Membership
    administrator: User
    analyst: User
    manager: User  # LCS department manager
    other_manager: User  # ENV department manager
    deputy_minister: User  # LCS deputy minister
    recused_deputy_minister: User  # FIN's DM: FIN hosts the PSOA, a party to PSOA cases
    provider_manager: User  # PSOA provider manager
    other_provider_manager: User  # TECH provider manager
    outsider: User  # signed in, inactive: may see nothing

    def personas(self) -> dict[str, User | None]:
        return {
            "anonymous": None,
            "administrator": self.administrator,
            "analyst": self.analyst,
            "manager": self.manager,
            "other_manager": self.other_manager,
            "deputy_minister": self.deputy_minister,
            "recused_deputy_minister": self.recused_deputy_minister,
            "provider_manager": self.provider_manager,
            "other_provider_manager": self.other_provider_manager,
            "outsider": self.outsider,
        }


T = TypeVar("T", bound=Model)


def new(factory: type[DjangoModelFactory[T]], **fields: Any) -> T:
    """One row of the world, inserted. The world is made on an empty database, so the
    factories' get-or-create (a SELECT, and a savepoint around the INSERT) has nothing to
    find: it was two thirds of the world's 105 queries, and the world is made for most
    tests of the suite."""
    instance = factory.build(**fields)
    instance.save()
    return instance


def build_world() -> World:
    lcs = new(DepartmentFactory, code="LCS", name="Labour and Citizens' Services", is_main=True)
    env = new(DepartmentFactory, code="ENV", name="Environment", is_main=True)
    fin = new(DepartmentFactory, code="FIN", name="Finance", is_main=True)
    tech = new(DepartmentFactory, code="TECH", name="Technology", is_main=True)
    psoa = new(
        ProviderFactory,
        code="PSOA",
        name="Public Service Operations Agency",
        kind=ProviderKind.PSOA,
        host_department=fin,
    )
    tech_provider = new(
        ProviderFactory,
        code="TECHSVC",
        name="Technology Services",
        kind=ProviderKind.DEPARTMENT,
        host_department=tech,
    )
    outside = new(ProviderFactory, code="ACME", name="Acme Outsourcing", kind=ProviderKind.EXTERNAL)
    payroll = new(ServiceFactory, code="PAY", name="Payroll", category="payroll")
    it = new(ServiceFactory, code="IT", name="Desktop IT", category="it", charging_unit="device")
    new(StandardFactory, service=payroll, name="Paid on time", unit="%", target="99.5")
    new(StandardFactory, service=it, name="Tickets resolved in 2 days", unit="%", target="90")
    pay_psoa = new(
        ClusterFactory, code="PAY-PSOA", name="PSOA Payroll", service=payroll, provider=psoa
    )
    pay_tech = new(
        ClusterFactory,
        code="PAY-TECH",
        name="Technology Payroll",
        service=payroll,
        provider=tech_provider,
    )
    it_tech = new(
        ClusterFactory,
        code="IT-TECH",
        name="Technology Desktop",
        service=it,
        provider=tech_provider,
    )
    start = datetime.date(2025, 4, 1)
    lcs_payroll = new(
        MembershipFactory, department=lcs, cluster=pay_psoa, joined_on=start, usage_units=400
    )
    env_payroll = new(
        MembershipFactory, department=env, cluster=pay_psoa, joined_on=start, usage_units=300
    )
    tech_payroll = new(
        MembershipFactory, department=tech, cluster=pay_tech, joined_on=start, usage_units=200
    )
    lcs_it = new(
        MembershipFactory, department=lcs, cluster=it_tech, joined_on=start, usage_units=350
    )

    dm = new(UserFactory, username="dm_lcs", role=Role.DEPUTY_MINISTER, department=lcs)
    fin_dm = new(UserFactory, username="dm_fin", role=Role.DEPUTY_MINISTER, department=fin)
    lcs.deputy_minister = dm
    lcs.save()
    fin.deputy_minister = fin_dm
    fin.save()
    return World(
        lcs=lcs,
        env=env,
        fin=fin,
        tech=tech,
        psoa=psoa,
        tech_provider=tech_provider,
        outside=outside,
        payroll=payroll,
        it=it,
        pay_psoa=pay_psoa,
        pay_tech=pay_tech,
        it_tech=it_tech,
        lcs_payroll=lcs_payroll,
        env_payroll=env_payroll,
        tech_payroll=tech_payroll,
        lcs_it=lcs_it,
        administrator=new(
            UserFactory, username="admin", role=Role.ADMINISTRATOR, is_staff=True, is_superuser=True
        ),
        analyst=new(UserFactory, username="analyst", role=Role.ANALYST),
        manager=new(UserFactory, username="mgr_lcs", role=Role.DEPARTMENT_MANAGER, department=lcs),
        other_manager=new(
            UserFactory, username="mgr_env", role=Role.DEPARTMENT_MANAGER, department=env
        ),
        deputy_minister=dm,
        recused_deputy_minister=fin_dm,
        provider_manager=new(
            UserFactory, username="pm_psoa", role=Role.PROVIDER_MANAGER, provider=psoa
        ),
        other_provider_manager=new(
            UserFactory, username="pm_tech", role=Role.PROVIDER_MANAGER, provider=tech_provider
        ),
        outsider=new(UserFactory, username="outsider", role=Role.ANALYST, is_active=False),
    )
