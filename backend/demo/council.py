"""The steps of a consultation round as the demo's topics take them: through the services, by name."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from backend.domain.consultations import DEFAULT_PUBLICITY_DAYS, Schedule
from backend.domain.voting import VoteRule
from backend.policy import roles_in_compound
from backend.services import consultations
from backend.services.consultations import Acceptance, OptionDraft, Participant

# A motion: 同意 decides it, 弃权 takes part without approving.
_MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))


class Council:
    """The first compound's people as the consultation services see them, and the steps of a round. Each step
    goes through the service that takes it in the app; the deadline-driven ones (ballot opened at the end of
    deliberation, closed at its deadline) are taken as the sweep takes them, at their due times."""

    def __init__(self, compound_id: int, accounts: dict[str, int], homes: dict[str, int]):
        self.compound_id = compound_id
        self.accounts = accounts
        self.homes = homes

    def user_id(self, username: str) -> int:
        return self.accounts[username]

    def person(self, username: str) -> Participant:
        user_id = self.user_id(username)
        return consultations.participant(
            user_id, self.compound_id, roles_in_compound(user_id, self.compound_id)
        )

    def home(self, username: str) -> int:
        return self.homes[username]

    def propose(self, username: str, title: str, body: str, cosigners: Sequence[str] = ()) -> int:
        topic_id = consultations.propose_topic(
            self.compound_id, self.person(username), self.home(username), title, body
        ).id
        for cosigner in cosigners:
            consultations.cosign(topic_id, self.person(cosigner), self.home(cosigner))
        return topic_id

    def accept(
        self,
        topic_id: int,
        rule: VoteRule,
        at: datetime,
        deliberation_ends_at: datetime,
        voting_hours: int,
        responsible_party: str = "",
    ) -> None:
        schedule = Schedule(deliberation_ends_at, voting_hours, DEFAULT_PUBLICITY_DAYS)
        consultations.accept_topic(
            topic_id,
            self.person("secretary"),
            Acceptance(rule=rule, schedule=schedule, responsible_party=responsible_party),
            now=at,
        )

    def draft_motion(self, topic_id: int) -> None:
        consultations.set_options(topic_id, self.person("committee"), _MOTION)

    def vote(self, topic_id: int, votes: Sequence[tuple[str, str]], until: datetime) -> None:
        """Open the ballot when deliberation ends, then cast `votes` (username, option label) in order, spread
        evenly over the window up to `until`."""
        deliberation_ends_at = consultations.get_topic(topic_id).deliberation_ends_at
        opened_at = consultations.open_ballot(topic_id, None, now=deliberation_ends_at).ballot_opened_at
        options = {option.label: option.id for option in consultations.options_of(topic_id)}
        spacing = (until - opened_at) / (len(votes) + 1)
        for index, (username, label) in enumerate(votes, start=1):
            consultations.cast_vote(
                topic_id,
                self.person(username),
                self.home(username),
                options[label],
                now=opened_at + spacing * index,
            )
            # What the vote's job does on a running worker (the receipt, the reminders withdrawn), done here so
            # the demo's inboxes are complete without one.
            consultations.tell_of_vote(topic_id, self.home(username))

    def close(self, topic_id: int) -> None:
        consultations.close_ballot(topic_id, None, now=consultations.get_topic(topic_id).ballot_closes_at)

    def carry(self, topic_id: int, votes: Sequence[tuple[str, str]], now: datetime) -> None:
        """Options, ballot, close at the deadline, and the end of publicity: a passed decision to carry out."""
        self.draft_motion(topic_id)
        topic = consultations.get_topic(topic_id)
        closes_at = topic.deliberation_ends_at + timedelta(hours=topic.voting_hours)
        self.vote(topic_id, votes, until=closes_at)
        self.close(topic_id)
        consultations.advance_topic(topic_id, now)


def show_of_hands(usernames: Sequence[str]) -> list[tuple[str, str]]:
    """Most for, one in five against, one in ten abstaining: a motion that carries."""
    return [
        (username, "不同意" if index % 5 == 2 else "弃权" if index % 10 == 6 else "同意")
        for index, username in enumerate(usernames)
    ]


def owners(first: int, last: int) -> list[str]:
    return [f"owner{number:02d}" for number in range(first, last + 1)]

