from __future__ import annotations

import pytest

from defection.models import Destination, Reason
from defection.services import exit_request_submit
from sharedsvc.roles import Role
from tests.factories import DepartmentFactory, UserFactory


def seat_holder(code: str):
    """A main department with a deputy minister: a seat on the board."""
    department = DepartmentFactory(code=code, name=f"Ministry {code}", is_main=True)
    dm = UserFactory(
        username=f"dm_{code.lower()}", role=Role.DEPUTY_MINISTER, department=department
    )
    department.deputy_minister = dm
    department.save()
    return dm


@pytest.fixture
def board(world):
    """The world's DMs (LCS requester, FIN hosts the PSOA) plus TECH and five more seats.

    LCS asks to leave PAY-PSOA for PAY-TECH (run by TECHSVC, hosted by TECH): LCS, FIN and
    TECH are parties and recused; ENV has no deputy minister, so no seat. Eligible: 5 seats.
    """
    tech_dm = UserFactory(username="dm_tech", role=Role.DEPUTY_MINISTER, department=world.tech)
    world.tech.deputy_minister = tech_dm
    world.tech.save()
    voters = [seat_holder(code) for code in ("AGRI", "EDUC", "HLTH", "JAG", "TRAN")]
    return voters


@pytest.fixture
def case(world, board):
    request = exit_request_submit(
        actor=world.manager,
        department=world.lcs,
        from_cluster=world.pay_psoa,
        destination=Destination.CLUSTER,
        to_cluster=world.pay_tech,
        reason=Reason.SERVICE_QUALITY,
        justification="Payroll errors every month for a year.",
    )
    return request.board_case
