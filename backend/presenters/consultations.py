"""What the deliberation (五步议事法) screens show, built once for the API to dump and the pages to render: the
topic list with what this person may start there, a topic as this person sees it with the actions open to them
(domain.consultations.allowed_actions), their households in the ballot (我的表决) and 待我表决, the lines of
comments, objections and progress, the turnout and the frozen result, the committee's desk, and the page's whole
topic screen. Labels come from the domain; who may do what from the permission table through policy."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from backend.domain import consultations as rules
from backend.domain import voting
from backend.domain.compounds import household_label
from backend.domain.consultations import (
    AFTER_THE_BALLOT,
    CHANNEL_LABELS,
    DESK_TITLE,
    FIVE_STEPS,
    MEETING_KIND_LABELS,
    MYSELF,
    NEEDS,
    OWNER_TITLE,
    RATEABLE_STEPS,
    RESIDENT_TITLE,
    STEP_LABELS,
    STEP_NUMBER,
    Channel,
    MeetingKind,
    Standing,
    Step,
    TopicAction,
)
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action
from backend.domain.voting import ITEM_LABELS, VoteKind
from backend.policy import NOT_FOUND, Access, authorize
from backend.presenters import renovation as renovation_presenter
from backend.presenters.confirmations import Confirmation
from backend.services import compounds as compound_service
from backend.services import consultations as service
from backend.services import meetings as meeting_service
from backend.services.consultations import MAX_TOPIC_PHOTOS, Participant, RecordedVote
from backend.shared.clock import utcnow
from backend.shared.pagination import Page

if TYPE_CHECKING:
    from backend.models import BallotOption, Household, Topic, TopicComment, TopicObjection, Vote


# ---- who is looking ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """A topic and the caller's standing in its compound."""

    topic: Topic
    access: Access
    person: Participant


def look(topic_id: int, user_id: int | None, entry_compound_id: int | None) -> Seen:
    """The topic and who is asking; 404 for anyone with nothing to do with its compound."""
    topic = _topic(topic_id)
    access = authorize(Action.VIEW_TOPICS, topic.compound_id, user_id, entry_compound_id)
    return Seen(topic=topic, access=access, person=service.participant(user_id, access.compound_id, access.roles))


def compound_of(topic_id: int) -> int:
    """The topic's compound, to send a signed-out reader to sign in before anything is shown."""
    return _topic(topic_id).compound_id


def _topic(topic_id: int) -> Topic:
    topic = service.get_topic(topic_id)
    if topic is None:
        raise Refused(NOT_FOUND, Kind.NOT_FOUND)
    return topic


def person_in(compound_id: int, user_id: int | None, entry_compound_id: int | None,
              action: Action = Action.VIEW_TOPICS) -> Participant:
    """Who is asking in a compound's lists (404 for strangers, 403 when the table refuses `action`)."""
    access = authorize(action, compound_id, user_id, entry_compound_id)
    return service.participant(user_id, compound_id, access.roles)


# ---- the list -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicLine:
    """A topic in a list: what it is and how far it has got; no names."""

    id: int
    compound_id: int
    title: str
    body: str
    step: Step
    step_label: str
    step_number: int
    cosign_count: int
    proposer_household_id: int | None
    vote_kind: VoteKind | None
    civil_code_item: int | None
    open_voting: bool
    deliberation_ends_at: datetime | None
    ballot_closes_at: datetime | None
    publicity_ends_at: datetime | None
    created_at: datetime


def _line_fields(topic: Topic) -> dict:
    return {
        "id": topic.id, "compound_id": topic.compound_id, "title": topic.title, "body": topic.body,
        "step": topic.step, "step_label": STEP_LABELS[topic.step], "step_number": STEP_NUMBER[topic.step],
        "cosign_count": topic.cosign_count, "proposer_household_id": topic.proposer_household_id,
        "vote_kind": topic.vote_kind, "civil_code_item": topic.civil_code_item, "open_voting": topic.open_voting,
        "deliberation_ends_at": topic.deliberation_ends_at, "ballot_closes_at": topic.ballot_closes_at,
        "publicity_ends_at": topic.publicity_ends_at, "created_at": topic.created_at,
    }


def topic_line(topic: Topic) -> TopicLine:
    return TopicLine(**_line_fields(topic))


# What a person may start from the list: propose as a household (with co-signs), raise straight to review (the
# committee, the party secretary), run the desk.
PROPOSE, RAISE, RUN = "propose", "raise", "run_consultations"


def list_actions(person: Participant) -> tuple[str, ...]:
    if not person.signed_in:
        return ()
    offered = {
        PROPOSE: bool(person.household_ids) and person.may(Action.PROPOSE_TOPIC),
        RAISE: person.may(Action.RAISE_TOPIC),
        RUN: person.runs_consultations,
    }
    return tuple(name for name, allowed in offered.items() if allowed)


@dataclass(frozen=True)
class TopicList:
    items: list[TopicLine]
    total: int
    page: int
    page_size: int
    actions: tuple[str, ...]


def topic_list(person: Participant, steps, page: int, page_size: int) -> TopicList:
    """The compound's topics newest first, of these steps (all when none)."""
    rows = service.topics_page(person.compound_id, steps, page, page_size)
    return TopicList(items=[topic_line(topic) for topic in rows.items], total=rows.total, page=page,
                     page_size=page_size, actions=list_actions(person))


# ---- 待我表决 ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingBallot:
    topic: TopicLine
    household_ids: list[int]
    household_labels: list[str]


def pending_ballots(user_id: int | None, compound_id: int) -> list[PendingBallot]:
    """Open ballots in which one of my households may vote and has not yet, closing soonest first."""
    if user_id is None:
        return []
    pending = service.pending_ballots(user_id, compound_id)
    labels = _labels(sorted({hid for entry in pending for hid in entry.household_ids}))
    return [
        PendingBallot(topic=topic_line(entry.topic), household_ids=list(entry.household_ids),
                      household_labels=[labels[hid] for hid in entry.household_ids])
        for entry in pending
    ]


def pending_ballot_count(user_id: int | None, compound_id: int) -> int:
    return len(service.pending_ballots(user_id, compound_id)) if user_id else 0


# ---- pieces of a topic ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdChoice:
    """One of my households, as a form offers it."""

    id: int
    label: str


def _labels(household_ids) -> dict[int, str]:
    return {household.id: address(household) for household in service.households_of(household_ids)}


def address(household: Household) -> str:
    """1栋1单元101室, as every screen says it."""
    return household_label(household.building.name, household.unit, household.room)


@dataclass(frozen=True)
class OptionLine:
    id: int
    label: str
    position: int
    is_abstain: bool
    is_approval: bool


def _option_line(option: BallotOption) -> OptionLine:
    return OptionLine(id=option.id, label=option.label, position=option.position, is_abstain=option.is_abstain,
                      is_approval=option.is_approval)


def options_of(topic_id: int) -> list[OptionLine]:
    return [_option_line(option) for option in service.options_of(topic_id)]


@dataclass(frozen=True)
class PhotoLine:
    id: int
    topic_id: int
    width: int
    height: int


def _photo_lines(photos) -> list[PhotoLine]:
    return [PhotoLine(id=p.id, topic_id=p.topic_id, width=p.width, height=p.height) for p in photos]


@dataclass(frozen=True)
class MeetingLink:
    """A meeting held on the topic."""

    id: int
    kind: MeetingKind
    kind_label: str
    title: str
    starts_at: datetime
    place: str


@dataclass(frozen=True)
class Receipt:
    """One of my households in the ballot (我的表决) and, where the rule shows it, its recorded vote."""

    household_id: int
    household_label: str
    may_vote: bool
    on_roll: bool
    voted: bool
    option_id: int | None = None
    option_label: str | None = None
    channel: Channel | None = None
    channel_label: str | None = None
    cast_at: datetime | None = None
    casts: int = 0

    @property
    def votable(self) -> bool:
        return self.may_vote and self.on_roll


def _vote_fields(vote: Vote, option_label: str | None) -> dict:
    return {"option_id": vote.option_id, "option_label": option_label, "channel": vote.channel,
            "channel_label": CHANNEL_LABELS[vote.channel], "cast_at": vote.cast_at, "casts": vote.casts}


def my_ballots(topic: Topic, person: Participant, options: list[OptionLine] | None = None) -> list[Receipt]:
    """My households in the ballot (service.my_ballot_receipts and the rule it follows), for the API's my-vote and
    the topic's page alike."""
    receipts = service.my_ballot_receipts(topic, person)
    if not receipts:
        return []
    labels = {option.id: option.label for option in (options or options_of(topic.id))}
    return [
        Receipt(
            household_id=receipt.household.id, household_label=address(receipt.household),
            may_vote=receipt.may_vote, on_roll=receipt.on_roll, voted=receipt.voted,
            **(_vote_fields(receipt.vote, labels.get(receipt.vote.option_id)) if receipt.vote else {}),
        )
        for receipt in receipts
    ]


def vote_receipt(vote: RecordedVote, *, may_vote: bool = True) -> Receipt:
    """The receipt of a vote just recorded, built from what its upsert returned (the labels included): the last
    minute of a ballot is its busiest, so nothing is read again."""
    return Receipt(household_id=vote.household_id, household_label=vote.household_label, may_vote=may_vote,
                   on_roll=True, voted=True, option_id=vote.option_id, option_label=vote.option_label,
                   channel=vote.channel, channel_label=CHANNEL_LABELS[vote.channel], cast_at=vote.cast_at,
                   casts=vote.casts)


def paper_vote_receipt(seen: Seen, vote: RecordedVote) -> Receipt:
    """A paper ballot's receipt for the committee member who recorded it (they saw the paper's choice)."""
    may_vote = vote.household_id in service.voting_household_ids(seen.topic, seen.person)
    return vote_receipt(vote, may_vote=may_vote)


# ---- a topic as one person sees it -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicDetail(TopicLine):
    five_steps: tuple[str, ...]
    proposer_name: str
    mine: bool
    cosign_threshold: int
    cosigned_household_ids: list[int]
    civil_code_item_label: str | None
    residents_may_vote: bool
    decline_reason: str
    merged_into_id: int | None
    reviewed_at: datetime | None
    voting_hours: int | None
    voting_window: str
    publicity_days: int | None
    ballot_opened_at: datetime | None
    ballot_closed_at: datetime | None
    voting_open: bool
    responsible_party: str
    implemented_at: datetime | None
    options: list[OptionLine]
    my_votes: list[Receipt]
    photos: list[PhotoLine]
    meetings: list[MeetingLink]
    following: bool
    rating_count: int
    rating_average: float | None
    actions: tuple[TopicAction, ...]
    # My verified households: those that have co-signed, and those that still may.
    cosigned_households: list[HouseholdChoice]
    households_to_cosign: list[HouseholdChoice]
    # To whoever may open the ballot now: what to know first (it ends the deliberation early, a meeting on the
    # topic is still to come).
    open_ballot_warnings: tuple[str, ...]
    # Issue 19: the renovation projects the topic led to (the way back of the accountability timeline).
    renovation_projects: list[dict] = field(default_factory=list)

    @property
    def byline(self) -> str:
        return MYSELF if self.mine else self.proposer_name


def proposer_name(topic: Topic, person: Participant) -> str:
    """Who proposed the topic, as this person may know it: the name to the proposer and to those who run the
    deliberation; to neighbours only that a resident proposed it, not who (个人信息保护法)."""
    if topic.proposer_id == person.user_id or person.runs_consultations:
        return topic.proposer.display_name or RESIDENT_TITLE
    return RESIDENT_TITLE if topic.proposer_household_id else DESK_TITLE


def topic_detail(seen: Seen, now: datetime | None = None) -> TopicDetail:
    """A topic as this person sees it, with the actions open to them now (the API's detail; the page's top)."""
    topic, person = seen.topic, seen.person
    now = now or utcnow()
    options = options_of(topic.id)
    cosigned = service.cosigned_household_ids(topic.id, person.household_ids)
    labels = _labels(person.household_ids) if person.household_ids else {}
    receipts = my_ballots(topic, person, options)
    following = person.signed_in and service.follows(topic.id, person.user_id)
    ratings = service.ratings_summary(topic.id)
    meetings = [
        MeetingLink(id=m.id, kind=m.kind, kind_label=MEETING_KIND_LABELS[m.kind], title=m.title,
                    starts_at=m.starts_at, place=m.place)
        for m in meeting_service.meetings_of_topic(topic.id)
    ]
    standing = Standing(
        step=topic.step, now=now, ballot_closes_at=topic.ballot_closes_at, publicity_ends_at=topic.publicity_ends_at,
        permitted=frozenset(permission for permission, _ in NEEDS.values() if person.may(permission)),
        signed_in=person.signed_in, proposer=topic.proposer_id == person.user_id,
        has_household=bool(person.household_ids), owns_household=bool(person.owned_household_ids),
        household_to_cosign=bool(set(person.household_ids) - cosigned),
        household_to_vote=any(receipt.votable for receipt in receipts),
        following=following, options=len(options),
        ballot_may_close=lambda: _ballot_may_close(topic, now),
        visible_comments=lambda: service.has_visible_comments(topic.id),
        unanswered_objections=lambda: service.has_unanswered_objections(topic.id),
    )
    actions = rules.allowed_actions(standing)
    return TopicDetail(
        **_line_fields(topic),
        five_steps=FIVE_STEPS,
        proposer_name=proposer_name(topic, person),
        mine=topic.proposer_id == person.user_id,
        cosign_threshold=service.settings_for(topic.compound_id).cosign_threshold,
        cosigned_household_ids=sorted(cosigned),
        civil_code_item_label=ITEM_LABELS.get(topic.civil_code_item),
        residents_may_vote=topic.residents_may_vote,
        decline_reason=topic.decline_reason,
        merged_into_id=topic.merged_into_id,
        reviewed_at=topic.reviewed_at,
        voting_hours=topic.voting_hours,
        voting_window=rules.window_label(topic.voting_hours),
        publicity_days=topic.publicity_days,
        ballot_opened_at=topic.ballot_opened_at,
        ballot_closed_at=topic.ballot_closed_at,
        voting_open=rules.ballot_open(topic.step, now, topic.ballot_closes_at),
        responsible_party=topic.responsible_party,
        implemented_at=topic.implemented_at,
        options=options,
        my_votes=receipts,
        photos=_photo_lines(service.photos_of(topic.id, proposal=True)),
        meetings=meetings,
        following=following,
        rating_count=ratings.count,
        rating_average=ratings.average,
        actions=actions,
        cosigned_households=[HouseholdChoice(hid, labels[hid]) for hid in person.household_ids if hid in cosigned],
        households_to_cosign=[
            HouseholdChoice(hid, labels[hid]) for hid in person.household_ids if hid not in cosigned
        ],
        open_ballot_warnings=rules.open_ballot_warnings(
            now, topic.deliberation_ends_at, [(f"{m.kind_label}“{m.title}”", m.starts_at) for m in meetings]
        ) if TopicAction.OPEN_BALLOT in actions else (),
        renovation_projects=renovation_presenter.topic_projects(topic.id),
    )


def _ballot_may_close(topic: Topic, now: datetime) -> bool:
    live = service.turnout(topic.id)
    return rules.may_close_ballot(now, topic.ballot_closes_at, live.voted_households, live.roll_households)


def fresh_detail(topic_id: int, user_id: int | None, entry_compound_id: int | None) -> TopicDetail:
    """The detail after a change, read again: the commit expired the rows."""
    return topic_detail(look(topic_id, user_id, entry_compound_id))


# ---- comments, objections, progress, ratings --------------------------------------------------------------------


@dataclass(frozen=True)
class CommentLine:
    id: int
    parent_id: int | None
    mine: bool
    created_at: datetime
    # A hidden comment keeps its place and shows why it was hidden; its text is shown to nobody.
    body: str
    hidden: bool
    hidden_reason: str
    author_name: str
    author_title: str
    byline: str


def comment_lines(topic: Topic, person: Participant, comments: list[TopicComment]) -> list[CommentLine]:
    """Those who run the deliberation know who speaks; neighbours see the role only (个人信息保护法)."""
    speakers = service.speakers(topic.compound_id, list({comment.author_id for comment in comments}))
    lines = []
    for comment in comments:
        speaker, mine = speakers.get(comment.author_id), comment.author_id == person.user_id
        title = speaker.title if speaker else RESIDENT_TITLE
        named = (person.runs_consultations or mine) and speaker is not None and bool(speaker.name)
        lines.append(CommentLine(
            id=comment.id, parent_id=comment.parent_id, mine=mine, created_at=comment.created_at,
            body="" if comment.hidden_at else comment.body, hidden=comment.hidden_at is not None,
            hidden_reason=comment.hidden_reason, author_name=speaker.name if named else title, author_title=title,
            byline=MYSELF if mine else (f"{speaker.name}（{title}）" if named else title),
        ))
    return lines


def comments_page(seen: Seen, page: int, page_size: int) -> Page:
    rows = service.comments_page(seen.topic.id, page, page_size)
    return Page(items=comment_lines(seen.topic, seen.person, rows.items), total=rows.total, page=page,
                page_size=page_size)


@dataclass(frozen=True)
class ObjectionLine:
    id: int
    body: str
    author_name: str
    mine: bool
    answer: str
    answered_at: datetime | None
    created_at: datetime


def objection_lines(topic: Topic, person: Participant, objections: list[TopicObjection]) -> list[ObjectionLine]:
    speakers = service.speakers(topic.compound_id, list({objection.author_id for objection in objections}))
    lines = []
    for objection in objections:
        speaker, mine = speakers.get(objection.author_id), objection.author_id == person.user_id
        named = (person.runs_consultations or mine) and speaker is not None and bool(speaker.name)
        lines.append(ObjectionLine(
            id=objection.id, body=objection.body, author_name=speaker.name if named else OWNER_TITLE, mine=mine,
            answer=objection.answer, answered_at=objection.answered_at, created_at=objection.created_at,
        ))
    return lines


def objections_of(seen: Seen) -> list[ObjectionLine]:
    return objection_lines(seen.topic, seen.person, service.objections(seen.topic.id))


@dataclass(frozen=True)
class ProgressLine:
    id: int
    body: str
    is_final: bool
    author_title: str
    created_at: datetime
    photos: list[PhotoLine]


def progress_lines(topic: Topic) -> list[ProgressLine]:
    updates = service.progress_updates(topic.id)
    photos = [photo for photo in service.photos_of(topic.id) if photo.progress_id is not None]
    speakers = service.speakers(topic.compound_id, list({update.author_id for update in updates}))
    return [
        ProgressLine(
            id=update.id, body=update.body, is_final=update.is_final, created_at=update.created_at,
            author_title=speakers[update.author_id].title if update.author_id in speakers else RESIDENT_TITLE,
            photos=_photo_lines(photo for photo in photos if photo.progress_id == update.id),
        )
        for update in updates
    ]


@dataclass(frozen=True)
class MyRating:
    household_id: int
    label: str
    stars: int | None
    comment: str


@dataclass(frozen=True)
class Ratings:
    """民事民评: the average, and my households' own ratings (`mine`, rated ones; `households`, every one of them
    for the forms)."""

    count: int
    average: float | None
    households: list[MyRating]

    @property
    def mine(self) -> list[MyRating]:
        return [rating for rating in self.households if rating.stars is not None]


def ratings(topic_id: int, person: Participant) -> Ratings:
    summary = service.ratings_summary(topic_id, person.household_ids)
    labels = _labels(person.household_ids) if person.household_ids else {}
    return Ratings(count=summary.count, average=summary.average, households=[
        MyRating(household_id=hid, label=labels[hid], stars=summary.mine[hid].stars if hid in summary.mine else None,
                 comment=summary.mine[hid].comment if hid in summary.mine else "")
        for hid in person.household_ids
    ])


# ---- the ballot: turnout and the frozen result -------------------------------------------------------------------


@dataclass(frozen=True)
class TurnoutLine:
    """The live participation bar: who has voted so far, against the 2/3 lines (no choices in it)."""

    roll_households: int
    voted_households: int
    total_area_centi_m2: int
    voted_area_centi_m2: int
    total_headcount: int
    voted_headcount: int
    area_line_met: bool
    headcount_line_met: bool
    ballot_closes_at: datetime | None
    voting_open: bool


def turnout(topic: Topic) -> TurnoutLine:
    live = service.turnout(topic.id)
    return TurnoutLine(
        roll_households=live.roll_households, voted_households=live.voted_households,
        total_area_centi_m2=live.total_area_centi_m2, voted_area_centi_m2=live.voted_area_centi_m2,
        total_headcount=live.total_headcount, voted_headcount=live.voted_headcount,
        area_line_met=live.area_line_met(), headcount_line_met=live.headcount_line_met(),
        ballot_closes_at=topic.ballot_closes_at, voting_open=rules.ballot_open(topic.step, utcnow(),
                                                                               topic.ballot_closes_at),
    )


@dataclass(frozen=True)
class OptionResult:
    id: int
    label: str
    is_abstain: bool
    is_approval: bool
    households: int
    area_centi_m2: int
    headcount: int
    approved: bool


@dataclass(frozen=True)
class ResultView:
    """The frozen result: figures, per option totals (public for a secret vote too; only each household's choice is
    not), the rule in words, why it passed or failed, and the households counted (with choices in an open vote)."""

    topic_id: int
    topic_title: str
    vote_kind: VoteKind
    civil_code_item: int | None
    civil_code_item_label: str | None
    open_voting: bool
    eligible_households: int
    total_area_centi_m2: int
    total_headcount: int
    participating_households: int
    participating_area_centi_m2: int
    participating_headcount: int
    participation_met: bool
    passed: bool
    reason: str
    thresholds: dict
    options: list[OptionResult]
    explanations: list
    rule_lines: list[str]
    computed_at: datetime
    counted: Page


def ballot_result(topic: Topic, page: int, page_size: int) -> ResultView | None:
    """None until the ballot is closed."""
    result = service.result_of(topic.id)
    if result is None:
        return None
    options = [OptionResult(id=int(key), **option) for key, option in result.options.items()]
    return ResultView(
        topic_id=topic.id, topic_title=topic.title, vote_kind=result.vote_kind,
        civil_code_item=result.civil_code_item, civil_code_item_label=ITEM_LABELS.get(result.civil_code_item),
        open_voting=topic.open_voting, eligible_households=result.eligible_households,
        total_area_centi_m2=result.total_area_centi_m2, total_headcount=result.total_headcount,
        participating_households=result.participating_households,
        participating_area_centi_m2=result.participating_area_centi_m2,
        participating_headcount=result.participating_headcount, participation_met=result.participation_met,
        passed=result.passed, reason=result.reason, thresholds=result.thresholds, options=options,
        explanations=service.explanations(result),
        rule_lines=voting.rule_in_words(service.tally_result(result), any(o.is_approval for o in options)),
        computed_at=result.computed_at,
        counted=service.roll_page(topic.id, page, page_size, counted_only=True, with_choices=topic.open_voting),
    )


# ---- the page's whole topic screen ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildingChoice:
    id: int
    name: str


@dataclass(frozen=True)
class TopicScreen:
    """The topic page: the detail with its actions, and what the API serves from the topic's other addresses."""

    detail: TopicDetail
    compound_name: str
    compound_code: str
    comments: Page
    turnout: TurnoutLine | None
    # Who has voted, never how, with the paper ballot's address form: for those who run the ballot while it runs.
    roll: Page | None
    buildings: list[BuildingChoice]
    result: ResultView | None
    objections: list[ObjectionLine]
    objection_households: list[HouseholdChoice]
    progress: list[ProgressLine]
    ratings: Ratings | None


def topic_screen(seen: Seen, comments_page_number: int, comments_per_page: int, roll_page_number: int,
                 roll_per_page: int) -> TopicScreen:
    topic, person = seen.topic, seen.person
    detail = topic_detail(seen)
    running = topic.step is Step.VOTING and person.runs_consultations
    after = topic.step in AFTER_THE_BALLOT
    compound = seen.access.compound
    return TopicScreen(
        detail=detail,
        compound_name=compound.name,
        compound_code=compound.code,
        comments=comments_page(seen, comments_page_number, comments_per_page),
        turnout=turnout(topic) if topic.step is Step.VOTING else None,
        roll=service.roll_page(topic.id, roll_page_number, roll_per_page) if running else None,
        buildings=[BuildingChoice(b.id, b.name) for b in compound_service.list_buildings(topic.compound_id)]
        if running else [],
        result=ballot_result(topic, 1, 1) if after else None,
        objections=objections_of(seen) if after else [],
        objection_households=[HouseholdChoice(hid, label) for hid, label in _labels(person.owned_household_ids).items()]
        if after and person.owned_household_ids else [],
        progress=progress_lines(topic) if after else [],
        ratings=ratings(topic.id, person) if topic.step in RATEABLE_STEPS else None,
    )


# ---- asking before the ballot opens or closes ---------------------------------------------------------------------


def open_ballot_confirmation(seen: Seen, now: datetime | None = None) -> Confirmation | None:
    """What opening the ballot will do, and the detail's warnings; None when the person may not open it now (the
    service then refuses with its own reason)."""
    now = now or utcnow()
    detail = topic_detail(seen, now)
    if TopicAction.OPEN_BALLOT not in detail.actions:
        return None
    hours = seen.topic.voting_hours or rules.MIN_VOTING_HOURS
    closes = rules.voting_closes_at(now, hours)
    return Confirmation(
        question="开启表决？",
        sentence=(f"开启后表决选项不能再修改，表决名单按此刻的房屋和面积确定，表决{rules.window_label(hours)}，"
                  f"到{rules.minute_label(closes)}截止。"),
        button="确认开启表决",
        warnings=detail.open_ballot_warnings,
    )


def close_ballot_confirmation(seen: Seen, now: datetime | None = None) -> Confirmation | None:
    """What closing the ballot will do; None when the person may not close it now (the service says why)."""
    now = now or utcnow()
    if TopicAction.CLOSE_BALLOT not in topic_detail(seen, now).actions:
        return None
    live = service.turnout(seen.topic.id)
    return Confirmation(
        question="结束表决？",
        sentence=(f"结束后不能再表决，将按名单上{live.roll_households}户中已表决的{live.voted_households}户计票，"
                  "并立即公示结果。"),
        button="确认结束表决并计票",
    )


# ---- proposing, the desk ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTopicForm:
    """What the proposal form offers this person: as which household, or raising it straight to review."""

    households: list[HouseholdChoice]
    actions: tuple[str, ...]
    threshold: int
    max_photos: int


def new_topic_form(person: Participant) -> NewTopicForm:
    actions = tuple(action for action in list_actions(person) if action in (PROPOSE, RAISE))
    households = _labels(person.household_ids) if PROPOSE in actions else {}
    return NewTopicForm(
        households=[HouseholdChoice(hid, label) for hid, label in households.items()], actions=actions,
        threshold=service.settings_for(person.compound_id).cosign_threshold, max_photos=MAX_TOPIC_PHOTOS,
    )


DESK_ROWS = 50


@dataclass(frozen=True)
class Desk:
    """议事台: what waits for the committee, step by step."""

    may_review: bool
    review: list[TopicLine]
    deliberating: list[tuple[TopicLine, int]]
    ballots: list[tuple[TopicLine, TurnoutLine]]
    awaiting: list[tuple[TopicLine, int]]


def desk(person: Participant) -> Desk:
    compound_id = person.compound_id
    deliberating = service.topics_page(compound_id, [Step.DELIBERATION], 1, DESK_ROWS).items
    counts = service.option_counts([topic.id for topic in deliberating])
    return Desk(
        may_review=person.may(Action.REVIEW_TOPICS),
        review=[topic_line(t) for t in service.topics_page(compound_id, [Step.REVIEW], 1, DESK_ROWS).items],
        deliberating=[(topic_line(topic), counts[topic.id]) for topic in deliberating],
        ballots=[(topic_line(t), turnout(t)) for t in service.topics_page(compound_id, [Step.VOTING], 1, DESK_ROWS).items],
        awaiting=[(topic_line(topic), count) for topic, count in service.topics_awaiting_answers(compound_id)],
    )
