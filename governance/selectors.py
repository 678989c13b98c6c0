"""Reads of the board: tally, quorum and what a seat may still change."""

from __future__ import annotations

from dataclasses import dataclass

from governance.models import Case, Choice


@dataclass(frozen=True)
class Tally:
    approve: int
    reject: int
    abstain: int
    eligible: int

    @property
    def voted(self) -> int:
        return self.approve + self.reject + self.abstain

    @property
    def quorum(self) -> int:
        """Votes needed: more than half of the eligible seats."""
        return self.eligible // 2 + 1

    @property
    def has_quorum(self) -> bool:
        return self.voted >= self.quorum

    @property
    def undecided(self) -> int:
        return self.eligible - self.voted

    @property
    def approved(self) -> bool:
        """Approve votes must outnumber reject votes; abstentions do not count; a tie stays."""
        return self.approve > self.reject

    @property
    def settled(self) -> bool:
        """Every eligible seat has voted, or with quorum the undecided seats can no longer
        turn the result (votes already cast are taken as they stand)."""
        if self.undecided == 0:
            return True
        if not self.has_quorum:
            return False
        return (
            self.approve > self.reject + self.undecided
            or self.approve + self.undecided <= self.reject
        )

    def as_dict(self) -> dict[str, int]:
        return {"approve": self.approve, "reject": self.reject, "abstain": self.abstain}


def case_tally(case: Case) -> Tally:
    """No query when the case was read `with_seats_and_counts()` or with its seats and votes
    prefetched; two otherwise."""
    if "vote_counts" in case.__dict__ and "seat_list" in case.__dict__:
        counts = case.__dict__["vote_counts"] or {}
        seat_list = case.__dict__["seat_list"] or []
        return Tally(
            approve=counts.get(Choice.APPROVE, 0),
            reject=counts.get(Choice.REJECT, 0),
            abstain=counts.get(Choice.ABSTAIN, 0),
            eligible=sum(1 for seat in seat_list if not seat["recused"]),
        )
    seats = list(case.seats.all())
    votes = list(case.votes.all())
    counts = {choice: sum(1 for v in votes if v.choice == choice) for choice in Choice.values}
    return Tally(
        approve=counts[Choice.APPROVE],
        reject=counts[Choice.REJECT],
        abstain=counts[Choice.ABSTAIN],
        eligible=sum(1 for s in seats if not s.recused),
    )


def describe_decision(status: str, tally: Tally) -> str:
    base = (
        f"{tally.approve} approve, {tally.reject} reject, {tally.abstain} abstain; "
        f"{tally.voted} of {tally.eligible} eligible seats voted (quorum {tally.quorum})."
    )
    if status == "lapsed":
        return (
            f"Lapsed: no quorum by the closing time. {base} The department stays and may ask again."
        )
    if status == "approved":
        return f"Approved: approve votes outnumber reject votes. {base}"
    if tally.approve == tally.reject:
        return f"Rejected: a tie is rejected and the department stays. {base}"
    return f"Rejected: approve votes do not outnumber reject votes. {base}"
