"""Deliberation (五步议事法) pages: the topic list by step with 待我表决, proposing, the topic detail with the
forms of every step (co-sign, review, comments, options, the ballot, objections, progress, ratings), the frozen
result, the committee desk and the access-checked photos."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for

from backend.domain import voting
from backend.domain.bindings import BindingRefused
from backend.domain.consultations import (
    CHANNEL_LABELS,
    FIVE_STEPS,
    MEETING_KIND_LABELS,
    OPEN_STEPS,
    STEP_LABELS,
    STEP_NUMBER,
    Channel,
    Schedule,
    Step,
    TopicRefused,
    objections_open,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Action, allows
from backend.domain.voting import FRACTION_WORDS, ITEM_LABELS, VoteKind, VoteRule
from backend.extensions import db
from backend.models import Household, Topic
from backend.pages import h5
from backend.pages.helpers import (
    compound_by_code,
    login_redirect,
    page_number,
    parse_id,
    require_user_for_post,
)
from backend.policy import Access, authorize
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.services import bindings as binding_service
from backend.services import compounds as compound_service
from backend.services import consultations as service
from backend.services import meetings as meeting_service
from backend.services.consultations import (
    MAX_TOPIC_PHOTOS,
    Acceptance,
    OptionDraft,
    Participant,
    household_label,
)
from backend.services.photos import PhotoRefused, PhotoTooLarge, photo_response, prepare_photo
from backend.shared.clock import SHANGHAI, beijing_moment, utcnow

PAGE_SIZE = 20
COMMENTS_PER_PAGE = 30
ROLL_PER_PAGE = 50
DESK_ROWS = 50
TOPIC_ID = "<int(min=1, max=2147483647):topic_id>"
TITLE_LIMIT, BODY_LIMIT = 60, 2000
COMMENT_LIMIT, HIDE_REASON_LIMIT, DECLINE_REASON_LIMIT = 500, 200, 300
OBJECTION_LIMIT = ANSWER_LIMIT = PROGRESS_LIMIT = 500
RATING_COMMENT_LIMIT, PAPER_NOTE_LIMIT, PARTY_LIMIT, OPTION_LIMIT = 300, 200, 60, 40
TOO_LONG = "填写内容过长，请精简后再提交"

# The list's tabs: what a resident looks for, not the nine internal steps.
TABS = {
    "proposed": ("征集中", (Step.PROPOSED,)),
    "review": ("待确定", (Step.REVIEW,)),
    "deliberation": ("协商中", (Step.DELIBERATION,)),
    "voting": ("表决中", (Step.VOTING,)),
    "publicity": ("公示与落实", (Step.PUBLICITY, Step.IMPLEMENTATION)),
    "ended": ("已结束", (Step.DONE, Step.DECLINED, Step.MERGED)),
}
DEFAULT_TAB = "proposed"
MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))
ABSTAIN_LABEL = "弃权"
DEFAULT_DELIBERATION = timedelta(days=7)
DEFAULT_VOTING_DAYS = 7
REFUSED = (TopicRefused, PhotoRefused, BindingRefused)


def _detail(topic_id: int, anchor: str = ""):
    return redirect(url_for("h5.topic_detail", topic_id=topic_id) + (f"#{anchor}" if anchor else ""))


def _refusal(exc: Exception) -> tuple[str, int]:
    """The Chinese message and the HTTP status of a refused step."""
    if isinstance(exc, TopicRefused):
        return exc.message, exc.status
    return str(exc), 413 if isinstance(exc, PhotoTooLarge) else 422


def share_width(part: int, whole: int) -> float:
    """A bar's filled width in percent, for display only (the decision compares integers)."""
    return round(min(part, whole) * 100 / whole, 2) if whole else 0


@h5.app_template_global()
def pending_ballot_count(compound_id: int) -> int:
    """The home page's 待我表决 badge: open ballots where one of my households has not voted yet."""
    user_id = optional_user_id()
    return len(service.pending_ballots(user_id, compound_id)) if user_id else 0


# ---- form fields ---------------------------------------------------------------------------------------------


def _text(name: str, limit: int, required: str = "") -> str:
    """A form's text; `required` is the message when it is left empty."""
    value = request.form.get(name, "").strip()
    if required and not value:
        raise TopicRefused(required, Kind.INVALID)
    if len(value) > limit:
        raise TopicRefused(TOO_LONG, Kind.INVALID)
    return value


def _form_id(name: str) -> int | None:
    return parse_id(request.form.get(name, "").lstrip("#"))


def _number(name: str, message: str) -> int:
    text = request.form.get(name, "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        raise TopicRefused(message, Kind.INVALID)
    return int(text)


def _household(choices: tuple[int, ...]) -> int:
    """The household the form acts for; one of several must be chosen, a single one needs no choice (the
    service checks that a chosen one is the person's)."""
    chosen = _form_id("household_id")
    if chosen is not None:
        return chosen
    if request.form.get("household_id", "").strip():
        raise TopicRefused("请选择房屋", Kind.INVALID)
    if not choices:
        raise TopicRefused("您在本小区没有可用于此操作的已认证房屋", Kind.FORBIDDEN)
    if len(choices) > 1:
        raise TopicRefused("请选择房屋", Kind.INVALID)
    return choices[0]


def _chosen_photos() -> list:
    # A file input left empty still sends one part with no file name.
    return [item for item in request.files.getlist("photos") if item.filename]


def _prepared_photos() -> list:
    chosen = _chosen_photos()
    if len(chosen) > MAX_TOPIC_PHOTOS:
        raise TopicRefused(f"最多上传{MAX_TOPIC_PHOTOS}张照片", Kind.INVALID)
    return [prepare_photo(item.stream) for item in chosen]


def _require(person: Participant, action: Action, message: str) -> None:
    if not allows(person.roles, action):
        raise TopicRefused(message, Kind.FORBIDDEN)


# ---- who is looking ------------------------------------------------------------------------------------------


def _topic(topic_id: int) -> Topic:
    topic = service.get_topic(topic_id)
    if topic is None:
        abort(404)
    return topic


def _standing(topic: Topic, user_id: int | None) -> tuple[Access, Participant]:
    """The caller's access and standing; 404 for anyone with nothing to do with the topic's compound."""
    access = authorize(Action.VIEW_TOPICS, topic.compound_id, user_id, entry_compound_id())
    return access, service.participant(user_id, access.compound_id, access.roles)


def _signed_in(person: Participant) -> bool:
    return person.user_id != 0


def _needs_sign_in(compound_id: int) -> bool:
    """Signed-out readers must at least have scanned the compound's QR code; others sign in first."""
    return optional_user_id() is None and entry_compound_id() != compound_id


def _may_propose(person: Participant) -> bool:
    return (bool(person.household_ids) and allows(person.roles, Action.PROPOSE_TOPIC)) or allows(
        person.roles, Action.RAISE_TOPIC
    )


# ---- the list, 待我表决 and the desk -----------------------------------------------------------------------------


@h5.get("/c/<code>/topics")
def topic_list(code: str):
    compound = compound_by_code(code)
    if _needs_sign_in(compound.id):
        return login_redirect()
    user_id = optional_user_id()
    access = authorize(Action.VIEW_TOPICS, compound.id, user_id, entry_compound_id())
    person = service.participant(user_id, compound.id, access.roles)
    tab = request.args.get("step", DEFAULT_TAB)
    tab = tab if tab in TABS else DEFAULT_TAB
    return render_template(
        "consultations/list.html",
        compound=compound,
        tab=tab,
        tabs=TABS,
        page=service.topics_page(compound.id, TABS[tab][1], page_number(), PAGE_SIZE),
        pending=service.pending_ballots(user_id, compound.id) if user_id else [],
        can_propose=user_id is not None and _may_propose(person),
        can_run=user_id is not None and person.runs_consultations,
        step_labels=STEP_LABELS,
        step_number=STEP_NUMBER,
        five_steps=FIVE_STEPS,
    )


@h5.get("/c/<code>/topics/desk")
def topic_desk(code: str):
    """议事台: what waits for the committee, step by step."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    access = authorize(Action.RUN_CONSULTATIONS, compound.id, user_id)
    deliberating = service.topics_page(compound.id, [Step.DELIBERATION], 1, DESK_ROWS).items
    voting_now = service.topics_page(compound.id, [Step.VOTING], 1, DESK_ROWS).items
    return render_template(
        "consultations/desk.html",
        compound=compound,
        can_review=service.may_review(compound, access.roles),
        review=service.topics_page(compound.id, [Step.REVIEW], 1, DESK_ROWS).items,
        deliberating=deliberating,
        option_counts=service.option_counts([t.id for t in deliberating]),
        ballots=[(topic, service.turnout(topic.id)) for topic in voting_now],
        awaiting=service.topics_awaiting_answers(compound.id),
        format_share=voting.format_share,
    )


# ---- propose ----------------------------------------------------------------------------------------------------


def _render_new(compound, person: Participant, form: dict, error: str | None = None, status: int = 200):
    return render_template(
        "consultations/new.html",
        compound=compound,
        form=form,
        error=error,
        households=service.households_of(person.household_ids)
        if allows(person.roles, Action.PROPOSE_TOPIC)
        else [],
        may_raise=allows(person.roles, Action.RAISE_TOPIC),
        max_photos=MAX_TOPIC_PHOTOS,
        threshold=service.settings_for(compound.id).cosign_threshold,
        household_label=household_label,
    ), status


def _proposer(compound, user_id: int) -> Participant:
    access = authorize(Action.VIEW_TOPICS, compound.id, user_id, entry_compound_id())
    return service.participant(user_id, compound.id, access.roles)


def _refuse_proposal():
    return render_template("error.html", code=403, message="绑定并认证房屋后才能发起议题"), 403


@h5.get("/c/<code>/topics/new")
def topic_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    person = _proposer(compound, user_id)
    return _render_new(compound, person, {}) if _may_propose(person) else _refuse_proposal()


@h5.post("/c/<code>/topics/new")
def topic_create(code: str):
    compound = compound_by_code(code)
    person = _proposer(compound, require_user_for_post())
    if not _may_propose(person):
        return _refuse_proposal()
    form = {key: request.form.get(key, "").strip() for key in ("title", "body", "household_id", "raise")}
    raising = form["raise"] == "1" or not allows(person.roles, Action.PROPOSE_TOPIC)
    try:
        title = _text("title", TITLE_LIMIT, "请填写议题标题")
        body = _text("body", BODY_LIMIT, "请写明议题内容")
        household_id = None if raising else _household(person.household_ids)
        photos = _prepared_photos()
        if raising:
            topic = service.raise_topic(compound.id, person, title, body, photos, ip=client_ip())
        else:
            topic = service.propose_topic(
                compound.id, person, household_id, title, body, photos, ip=client_ip()
            )
    except REFUSED as exc:
        db.session.rollback()
        message, status = _refusal(exc)
        return _render_new(compound, person, form, message, status)
    if topic.step is Step.PROPOSED:
        flash(
            f"议题已发起，联名达到{service.settings_for(compound.id).cosign_threshold}户后进入议题确定",
            "success",
        )
    else:
        flash("议题已提交，等待议题确定", "success")
    return _detail(topic.id)


# ---- detail -------------------------------------------------------------------------------------------------------


def _proposer_label(topic: Topic, person: Participant) -> str:
    return "我" if topic.proposer_id == person.user_id else service.proposer_name(topic, person)


def _speaker_label(author_id: int, speaker, person: Participant) -> str:
    if author_id == person.user_id:
        return "我"
    # Those who run the deliberation know who speaks; neighbours see the role only (个人信息保护法).
    return (
        f"{speaker.name}（{speaker.title}）" if person.runs_consultations and speaker.name else speaker.title
    )


def _comments(topic: Topic, person: Participant) -> dict:
    page = service.comments_page(topic.id, page_number("comments"), COMMENTS_PER_PAGE)
    speakers = service.speakers(topic.compound_id, list({comment.author_id for comment in page.items}))
    return {
        "comments": page,
        "speaker": {author_id: _speaker_label(author_id, s, person) for author_id, s in speakers.items()},
        "can_comment": _signed_in(person)
        and topic.step in OPEN_STEPS
        and allows(person.roles, Action.COMMENT_ON_TOPICS),
    }


def _ballot(topic: Topic, person: Participant, households: dict[int, Household]) -> dict:
    if topic.ballot_opened_at is None:
        return {"turnout": None, "my_ballots": [], "roll": None, "buildings": ()}
    running = person.runs_consultations and topic.step is Step.VOTING
    return {
        "turnout": service.turnout(topic.id) if topic.step is Step.VOTING else None,
        "my_ballots": service.my_ballot_receipts(topic, person),
        # Who has voted, never how: the committee reminds those who have not.
        "roll": service.roll_page(topic.id, page_number("roll"), ROLL_PER_PAGE) if running else None,
        "buildings": compound_service.list_buildings(topic.compound_id) if running else (),
    }


def _aftermath(topic: Topic, person: Participant, households: dict[int, Household]) -> dict:
    """Step 5: the result, objections, progress with its photos, ratings."""
    if topic.step not in (Step.PUBLICITY, Step.IMPLEMENTATION, Step.DONE):
        return {"result": None, "objections": [], "progress": [], "ratings": None}
    photos = [photo for photo in service.photos_of(topic.id) if photo.progress_id is not None]
    rateable = topic.step in (Step.IMPLEMENTATION, Step.DONE)
    return {
        "result": service.result_of(topic.id),
        "objections": service.objections(topic.id),
        "progress": [
            (item, [p for p in photos if p.progress_id == item.id])
            for item in service.progress_updates(topic.id)
        ],
        "ratings": service.ratings_summary(topic.id, person.household_ids) if rateable else None,
        "can_object": objections_open(topic.step, utcnow(), topic.publicity_ends_at)
        and bool(person.owned_household_ids)
        and allows(person.roles, Action.FILE_OBJECTION),
        "objection_households": [households[hid] for hid in person.owned_household_ids],
        "can_report": topic.step is Step.IMPLEMENTATION and allows(person.roles, Action.REPORT_PROGRESS),
        "can_rate": rateable
        and bool(person.household_ids)
        and allows(person.roles, Action.RATE_IMPLEMENTATION),
    }


def _window_label(hours: int | None) -> str:
    if not hours:
        return ""
    return f"{hours // 24}天" if hours % 24 == 0 else f"{hours}小时"


def _review_defaults(topic: Topic) -> dict:
    ends = (utcnow() + DEFAULT_DELIBERATION).astimezone(SHANGHAI)
    return {
        "vote_kind": VoteKind.CONSULTATION.value,
        "civil_code_item": "",
        "deliberation_ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
        "voting_amount": str(DEFAULT_VOTING_DAYS),
        "voting_unit": "days",
        "publicity_days": str(service.settings_for(topic.compound_id).publicity_days),
        "responsible_party": "",
    }


def _render_detail(
    topic: Topic,
    access: Access,
    person: Participant,
    error: str | None = None,
    status: int = 200,
    form: dict | None = None,
):
    compound = access.compound
    households = {h.id: h for h in service.households_of(person.household_ids)}
    cosigned = service.cosigned_household_ids(topic.id, person.household_ids)
    options = service.options_of(topic.id)
    can_review = topic.step is Step.REVIEW and service.may_review(compound, person.roles)
    context = {
        "topic": topic,
        "compound": compound,
        "person": person,
        "error": error,
        "now": utcnow(),
        "form": (_review_defaults(topic) if can_review else {}) | (form or {}),
        "proposer": _proposer_label(topic, person),
        "proposal_photos": service.photos_of(topic.id, proposal=True),
        "threshold": service.settings_for(topic.compound_id).cosign_threshold,
        "cosign_households": [households[hid] for hid in person.household_ids if hid not in cosigned]
        if topic.step is Step.PROPOSED and allows(person.roles, Action.PROPOSE_TOPIC)
        else [],
        "cosigned": [households[hid] for hid in person.household_ids if hid in cosigned],
        "can_review": can_review,
        "can_follow": _signed_in(person)
        and allows(person.roles, Action.COMMENT_ON_TOPICS)
        and topic.step in OPEN_STEPS
        and not service.follows(topic.id, person.user_id),
        "options": options,
        "option_label": {option.id: option.label for option in options},
        "can_draft": topic.step is Step.DELIBERATION and person.runs_consultations,
        "voting_window": _window_label(topic.voting_hours),
        "meetings": meeting_service.meetings_of_topic(topic.id),
        "households": households,
        **_comments(topic, person),
        **_ballot(topic, person, households),
        **_aftermath(topic, person, households),
    }
    return render_template(
        "consultations/detail.html",
        **context,
        step_labels=STEP_LABELS,
        step_number=STEP_NUMBER,
        five_steps=FIVE_STEPS,
        item_labels=ITEM_LABELS,
        channel_labels=CHANNEL_LABELS,
        meeting_kind_labels=MEETING_KIND_LABELS,
        household_label=household_label,
        share_width=share_width,
        format_area=voting.format_area,
        format_share=voting.format_share,
    ), status


@h5.get(f"/topics/{TOPIC_ID}")
def topic_detail(topic_id: int):
    topic = _topic(topic_id)
    if _needs_sign_in(topic.compound_id):
        return login_redirect()
    access, person = _standing(topic, optional_user_id())
    return _render_detail(topic, access, person)


@h5.get(f"/topics/{TOPIC_ID}/photos/<int(min=1, max=2147483647):photo_id>")
def topic_photo(topic_id: int, photo_id: int):
    """Proposal and progress photos for everyone of the compound; a paper ballot's only for the committee."""
    topic = _topic(topic_id)
    _, person = _standing(topic, optional_user_id())
    return photo_response(service.visible_photo(topic, photo_id, person), max_age=86400)


# ---- the result -----------------------------------------------------------------------------------------------


def _threshold_lines(result) -> list[str]:
    """The rule that was applied, in words (Civil Code Art. 278 for owners' joint decisions)."""
    judged = service.tally_result(result)
    if judged.rule.kind is VoteKind.CONSULTATION:
        return [
            "一般协商事项：至少一户参与表决；某一选项获得的户数超过参与表决户数的二分之一即为通过，弃权计入参与表决户数。"
        ]
    who = "同意的业主" if any(o["is_approval"] for o in result.options.values()) else "选择某一候选项的业主"
    share = "过半数" if judged.approval_strict else f"{FRACTION_WORDS[judged.approval_threshold]}以上"
    return [
        f"业主共同决定事项：《民法典》第二百七十八条第一款第（{result.civil_code_item}）项"
        f"“{ITEM_LABELS[result.civil_code_item]}”。",
        "参与表决的业主须占专有部分面积三分之二以上且占业主人数三分之二以上（第二百七十八条第二款）。",
        f"{who}须占参与表决专有部分面积{share}，且占参与表决人数{share}。",
        "一户（专有部分）一票，按建筑面积计；一位业主有多套房屋的，人数按一人计算。",
    ]


@h5.get(f"/topics/{TOPIC_ID}/result")
def topic_result(topic_id: int):
    topic = _topic(topic_id)
    if _needs_sign_in(topic.compound_id):
        return login_redirect()
    access, _ = _standing(topic, optional_user_id())
    result = service.result_of(topic.id)
    if result is None:
        return render_template("error.html", code=404, message="表决结束后才会公布结果"), 404
    return render_template(
        "consultations/result.html",
        topic=topic,
        compound=access.compound,
        result=result,
        explanations=service.explanations(result),
        thresholds=_threshold_lines(result),
        # The households counted, so anyone can see nobody was added; choices only in an open vote (公开表决).
        counted=service.roll_page(
            topic.id, page_number(), ROLL_PER_PAGE, counted_only=True, with_choices=topic.open_voting
        ),
        format_area=voting.format_area,
        format_share=voting.format_share,
        item_labels=ITEM_LABELS,
    )


# ---- actions ----------------------------------------------------------------------------------------------------


def _act(topic_id: int, work: Callable[[Topic, Participant], str], anchor: str = ""):
    """Run one step from the detail page: flash and go back on success; on a refusal show the page again with
    the reason and its 4xx status, never a 500."""
    user_id = require_user_for_post()
    topic = _topic(topic_id)
    access, person = _standing(topic, user_id)
    try:
        message = work(topic, person)
    except REFUSED as exc:
        # The topic's row lock is let go now, not at the end of the request.
        db.session.rollback()
        reason, status = _refusal(exc)
        return _render_detail(topic, access, person, reason, status, request.form.to_dict())
    flash(message, "success")
    return _detail(topic_id, anchor)


@h5.post(f"/topics/{TOPIC_ID}/cosign")
def topic_cosign(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.PROPOSE_TOPIC, "只有已认证房屋的业主或住户可以联名")
        topic = service.cosign(topic.id, person, _household(person.household_ids), ip=client_ip())
        if topic.step is Step.REVIEW:
            return f"联名成功！已达到{topic.cosign_count}户，议题进入“议题确定”"
        return f"联名成功，已有{topic.cosign_count}户联名"

    return _act(topic_id, run)


def _acceptance() -> Acceptance:
    kind = request.form.get("vote_kind", "")
    if kind not in {k.value for k in VoteKind}:
        raise TopicRefused("请选择决定方式", Kind.INVALID)
    item = _form_id("civil_code_item") if kind == VoteKind.OWNERS_JOINT else None
    try:
        rule = VoteRule(kind=kind, item=item)
    except ValueError as exc:
        raise TopicRefused(str(exc), Kind.INVALID) from None
    ends_at = beijing_moment(request.form.get("deliberation_ends_at", "").strip())
    if ends_at is None:
        raise TopicRefused("请选择协商讨论截止时间", Kind.INVALID)
    amount = _number("voting_amount", "请填写表决时长")
    hours = amount * 24 if request.form.get("voting_unit") == "days" else amount
    schedule = Schedule(
        deliberation_ends_at=ends_at,
        voting_hours=hours,
        publicity_days=_number("publicity_days", "请填写公示天数"),
    )
    return Acceptance(
        rule=rule,
        schedule=schedule,
        open_voting=request.form.get("open_voting") == "1",
        responsible_party=_text("responsible_party", PARTY_LIMIT),
    )


@h5.post(f"/topics/{TOPIC_ID}/review")
def topic_review(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        decision = request.form.get("decision")
        if decision == "accept":
            service.accept_topic(topic.id, person, _acceptance(), ip=client_ip())
            return "议题已确定，进入协商讨论"
        if decision == "decline":
            service.decline_topic(
                topic.id,
                person,
                _text("reason", DECLINE_REASON_LIMIT, "请填写不予采纳的原因"),
                ip=client_ip(),
            )
            return "已决定不予采纳，原因已公开"
        if decision == "merge":
            into_id = _form_id("merge_into_id")
            if into_id is None:
                raise TopicRefused("请填写要合并到的议题编号", Kind.INVALID)
            service.merge_topic(topic.id, person, into_id, ip=client_ip())
            return f"已合并到议题 #{into_id}"
        raise TopicRefused("请选择确定、不予采纳或合并", Kind.INVALID)

    return _act(topic_id, run, "review")


@h5.post(f"/topics/{TOPIC_ID}/comments")
def topic_comment(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.COMMENT_ON_TOPICS, "小区住户和各方代表才能发表评论")
        parent_id = _form_id("parent_id")
        if parent_id is None and request.form.get("parent_id", "").strip():
            raise TopicRefused("要回复的评论不存在", Kind.INVALID)
        service.add_comment(
            topic.id,
            person.user_id,
            _text("body", COMMENT_LIMIT, "请填写评论内容"),
            parent_id,
            ip=client_ip(),
        )
        return "评论已发布"

    return _act(topic_id, run, "comments")


@h5.post(f"/topics/{TOPIC_ID}/comments/<int(min=1, max=2147483647):comment_id>/hide")
def topic_hide_comment(topic_id: int, comment_id: int):
    def run(topic: Topic, person: Participant) -> str:
        reason = _text("reason", HIDE_REASON_LIMIT, "请填写隐藏原因（会公开显示）")
        service.hide_comment(topic.id, comment_id, person, reason, ip=client_ip())
        return "评论已隐藏，原因已公开"

    return _act(topic_id, run, "comments")


def _option_drafts() -> list[OptionDraft]:
    if request.form.get("kind") == "motion":
        return list(MOTION)
    labels = list(dict.fromkeys(line.strip() for line in request.form.get("candidates", "").splitlines()))
    labels = [label for label in labels if label]
    if any(len(label) > OPTION_LIMIT for label in labels):
        raise TopicRefused(f"每个选项不超过{OPTION_LIMIT}个字", Kind.INVALID)
    drafts = [OptionDraft(label) for label in labels]
    if request.form.get("with_abstain") == "1" and ABSTAIN_LABEL not in labels:
        drafts.append(OptionDraft(ABSTAIN_LABEL, is_abstain=True))
    return drafts


@h5.post(f"/topics/{TOPIC_ID}/options")
def topic_options(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        drafts = _option_drafts()
        service.set_options(topic.id, person, drafts, ip=client_ip())
        return f"表决选项已保存：{'、'.join(draft.label for draft in drafts)}"

    return _act(topic_id, run, "options")


@h5.post(f"/topics/{TOPIC_ID}/ballot/open")
def topic_open_ballot(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.RUN_CONSULTATIONS, "只有业委会成员或党组织书记可以开启表决")
        topic = service.open_ballot(topic.id, person.user_id, ip=client_ip())
        return f"表决已开始，{topic.ballot_closes_at.astimezone(SHANGHAI):%m月%d日 %H:%M}截止"

    return _act(topic_id, run, "ballot")


@h5.post(f"/topics/{TOPIC_ID}/vote")
def topic_vote(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.VOTE, "只有已认证房屋的业主可以表决")
        household_id = _household(service.voting_household_ids(topic, person))
        option_id = _form_id("option_id")
        if option_id is None:
            raise TopicRefused("请选择一个表决选项", Kind.INVALID)
        vote = service.cast_vote(topic.id, person, household_id, option_id)
        label = next(option.label for option in service.options_of(topic.id) if option.id == vote.option_id)
        return f"已记录您家的表决：{label}。表决截止前可以修改"

    return _act(topic_id, run, "ballot")


@h5.post(f"/topics/{TOPIC_ID}/paper-votes")
def topic_paper_vote(topic_id: int):
    """书面表决票 / 委托书: a committee member finds the household by its address and attaches the paper's photo."""

    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.RUN_CONSULTATIONS, "只有业委会成员或党组织书记可以录入书面表决")
        channel = request.form.get("channel", "")
        if channel not in (Channel.PAPER, Channel.PROXY):
            raise TopicRefused("请选择书面表决票或委托书", Kind.INVALID)
        building_id, option_id = _form_id("building_id"), _form_id("option_id")
        if building_id is None or option_id is None:
            raise TopicRefused("请选择楼栋和表决选项", Kind.INVALID)
        household = binding_service.find_household(
            topic.compound_id, building_id, _text("unit", 16), _text("room", 16)
        )
        photos = _prepared_photos()
        if len(photos) != 1:
            raise TopicRefused("请拍摄一张书面表决票或委托书的照片", Kind.INVALID)
        service.record_paper_vote(
            topic.id,
            person,
            household.id,
            option_id,
            Channel(channel),
            photos[0],
            note=_text("note", PAPER_NOTE_LIMIT),
            ip=client_ip(),
        )
        return f"已录入{household_label(household)}的{CHANNEL_LABELS[Channel(channel)]}"

    return _act(topic_id, run, "turnout")


@h5.post(f"/topics/{TOPIC_ID}/ballot/close")
def topic_close_ballot(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.RUN_CONSULTATIONS, "只有业委会成员或党组织书记可以结束表决")
        result = service.close_ballot(topic.id, person.user_id, ip=client_ip())
        return f"表决已结束：{result.reason}，结果已公示"

    return _act(topic_id, run)


@h5.post(f"/topics/{TOPIC_ID}/objections")
def topic_objection(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.FILE_OBJECTION, "只有已认证的业主可以提出异议")
        body = _text("body", OBJECTION_LIMIT, "请写明异议内容")
        service.file_objection(topic.id, person, _household(person.owned_household_ids), body, ip=client_ip())
        return "异议已提交，业委会将公开答复"

    return _act(topic_id, run, "objections")


@h5.post(f"/topics/{TOPIC_ID}/objections/<int(min=1, max=2147483647):objection_id>/answer")
def topic_answer(topic_id: int, objection_id: int):
    def run(topic: Topic, person: Participant) -> str:
        answer = _text("answer", ANSWER_LIMIT, "请填写答复内容")
        service.answer_objection(topic.id, objection_id, person, answer, ip=client_ip())
        return "答复已公开"

    return _act(topic_id, run, "objections")


@h5.post(f"/topics/{TOPIC_ID}/progress")
def topic_progress(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.REPORT_PROGRESS, "只有落实责任方可以发布进展")
        body = _text("body", PROGRESS_LIMIT, "请填写落实进展")
        final = request.form.get("is_final") == "1"
        service.post_progress(topic.id, person, body, final, _prepared_photos(), ip=client_ip())
        return "已标记落实完成" if final else "落实进展已发布"

    return _act(topic_id, run, "progress")


@h5.post(f"/topics/{TOPIC_ID}/rate")
def topic_rate(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.RATE_IMPLEMENTATION, "只有已认证房屋的业主或住户可以评价")
        stars = request.form.get("stars", "")
        if stars not in {"1", "2", "3", "4", "5"}:
            raise TopicRefused("请选择1到5星的评分", Kind.INVALID)
        service.rate_implementation(
            topic.id,
            person,
            _household(person.household_ids),
            int(stars),
            _text("comment", RATING_COMMENT_LIMIT),
            ip=client_ip(),
        )
        return "感谢您的评价"

    return _act(topic_id, run, "ratings")


@h5.post(f"/topics/{TOPIC_ID}/follow")
def topic_follow(topic_id: int):
    def run(topic: Topic, person: Participant) -> str:
        _require(person, Action.COMMENT_ON_TOPICS, "小区住户和各方代表才能关注议题")
        service.follow_topic(topic.id, person.user_id)
        return "已关注，议题进展会通知您"

    return _act(topic_id, run)
