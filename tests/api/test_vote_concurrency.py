"""One vote per household under concurrency, on PostgreSQL with committed data: fifty taps on the same household
at once leave one vote row and fifty casts; a close racing with votes counts every vote it let through and
refuses the rest with 409, losing none."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.consultations import Schedule
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.models import BallotResult, Compound, Household, Topic, User, Vote, VoteCast
from backend.policy import roles_in_compound
from backend.services import consultations as service
from backend.services.auth import issue_tokens
from backend.services.consultations import Acceptance, OptionDraft, Participant
from backend.shared.clock import utcnow

TAPS = 50
ROUNDS = 3
# Vote changes each owner sends one after another during the close race.
CHANGES = 4
MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))


def bearer_for(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def person(user: User, compound: Compound) -> Participant:
    return service.participant(user.id, compound.id, roles_in_compound(user.id, compound.id))


def households_of(compound: Compound) -> list[Household]:
    return list(
        db.session.scalars(
            select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )


def open_ballot(compound: Compound, committee: User, secretary: User) -> tuple[int, dict[str, int]]:
    """A consultation raised, accepted, drafted as a motion and opened; its id and options by label."""
    topic = service.raise_topic(compound.id, person(committee, compound), "加装门禁", "东门加装人脸识别门禁")
    schedule = Schedule(utcnow() + timedelta(days=1), 24, 7)
    service.accept_topic(
        topic.id,
        person(secretary, compound),
        Acceptance(rule=VoteRule(VoteKind.CONSULTATION), schedule=schedule),
    )
    options = service.set_options(topic.id, person(committee, compound), MOTION)
    service.open_ballot(topic.id, committee.id)
    return topic.id, {option.label: option.id for option in options}


def race(app, sequences: list[list[tuple[str, str, dict | None, dict]]]) -> list[list[tuple[int, dict]]]:
    """Start every sequence of (method, path, json, headers) at once, each in its own thread, app context and
    connection; a thread sends its requests one after another."""
    barrier = threading.Barrier(len(sequences))
    results: list[list[tuple[int, dict]] | BaseException | None] = [None] * len(sequences)

    def run(index: int) -> None:
        try:
            with app.app_context():
                client = app.test_client()
                barrier.wait(timeout=30)
                answers = []
                for method, path, body, headers in sequences[index]:
                    response = client.open(path, method=method, json=body, headers=headers)
                    answers.append((response.status_code, response.get_json()))
                    db.session.remove()
                results[index] = answers
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which fails the test with it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(sequences))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for result in results:
        if isinstance(result, BaseException):
            raise result
        assert result is not None, "a request did not finish"
    return results


@pytest.mark.postgresql
@pytest.mark.live
def test_fifty_taps_for_one_household_leave_one_vote_and_fifty_casts(app, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=2)
    home = households_of(compound)[0]
    # Several owners of the same flat tapping at once, each more than once.
    owners = [make_user(Role.OWNER, compound, household=home) for _ in range(5)]
    committee = make_user(Role.COMMITTEE, compound)
    topic_id, options = open_ballot(compound, committee, make_user(Role.PARTY_SECRETARY, compound))
    choices = [options["同意"], options["不同意"], options["弃权"]]
    requests = [
        [
            (
                "PUT",
                f"/api/v1/topics/{topic_id}/vote",
                {"option_id": choices[n % 3], "household_id": home.id},
                bearer_for(owners[n % len(owners)]),
            )
        ]
        for n in range(TAPS)
    ]
    db.session.remove()

    results = [answers[0] for answers in race(app, requests)]
    assert [status for status, _ in results] == [200] * TAPS, [
        body for status, body in results if status != 200
    ]
    assert {body["household_id"] for _, body in results} == {home.id}

    votes = db.session.scalars(select(Vote).where(Vote.topic_id == topic_id)).all()
    assert len(votes) == 1 and votes[0].household_id == home.id and votes[0].casts == TAPS
    casts = db.session.scalars(
        select(VoteCast).where(VoteCast.topic_id == topic_id).order_by(VoteCast.id)
    ).all()
    assert len(casts) == TAPS
    # The last cast is the one that counts.
    assert votes[0].option_id == casts[-1].option_id
    assert max(body["casts"] for _, body in results) == TAPS


@pytest.mark.postgresql
@pytest.mark.live
def test_a_close_racing_with_votes_counts_each_accepted_vote_and_refuses_the_rest(
    app, make_compound, make_user
):
    compound = make_compound(buildings=2, households_per_building=5)
    homes = households_of(compound)
    owners = [make_user(Role.OWNER, compound, household=home) for home in homes]
    committee = make_user(Role.COMMITTEE, compound)
    secretary = make_user(Role.PARTY_SECRETARY, compound)
    rounds = []
    for _ in range(ROUNDS):
        topic_id, options = open_ballot(compound, committee, secretary)
        # Everybody has voted 不同意, so the committee may close early while the owners change their votes.
        for owner, home in zip(owners, homes, strict=True):
            service.cast_vote(topic_id, person(owner, compound), home.id, options["不同意"])
        rounds.append((topic_id, options))
    owner_headers, committee_headers = [bearer_for(owner) for owner in owners], bearer_for(committee)
    db.session.remove()

    for topic_id, options in rounds:
        # Each owner changes their mind several times in a row while the committee closes the ballot.
        flips = [options["同意"], options["弃权"]] * (CHANGES // 2)
        path = f"/api/v1/topics/{topic_id}/vote"
        sequences = [
            [("PUT", path, {"option_id": option}, headers) for option in flips] for headers in owner_headers
        ]
        closing = [("POST", f"/api/v1/topics/{topic_id}/ballot/close", None, committee_headers)]
        middle = len(sequences) // 2
        answers = race(app, [*sequences[:middle], closing, *sequences[middle:]])
        assert answers[middle][0][0] == 200, answers[middle]
        owner_answers = answers[:middle] + answers[middle + 1 :]

        expected: Counter[int] = Counter()
        accepted = 0
        for household_answers in owner_answers:
            statuses = [status for status, _ in household_answers]
            assert set(statuses) <= {200, 409}, household_answers
            # Once the ballot is closed it stays closed: no vote is let through after a refusal.
            assert statuses == sorted(statuses), statuses
            counted = [option for option, status in zip(flips, statuses, strict=True) if status == 200]
            expected[counted[-1] if counted else options["不同意"]] += 1
            accepted += len(counted)

        db.session.expire_all()
        result = db.session.get(BallotResult, topic_id)
        assert {int(key): option["households"] for key, option in result.options.items()} == {
            option_id: expected[option_id] for option_id in options.values()
        }
        stored = Counter(db.session.scalars(select(Vote.option_id).where(Vote.topic_id == topic_id)))
        assert stored == expected
        casts = db.session.scalar(select(func.count()).where(VoteCast.topic_id == topic_id))
        assert casts == len(owner_headers) + accepted
        assert db.session.get(Topic, topic_id).ballot_closed_at is not None
        db.session.remove()
