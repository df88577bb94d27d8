"""Deliberation (五步议事法) pages: the topic list by step with 待我表决, proposing, the topic detail with the
forms of every step (co-sign, photos, review, comments, options, the ballot, objections, progress, ratings), the
frozen result, the committee desk and the access-checked photos. What each page shows, and which forms it offers,
is the presenter's (the same the API dumps); forms load through the API's schemas; a refusal shows the topic page
again with the reason (show_refusal_with)."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for

from backend.domain import voting
from backend.domain.consultations import CHANNEL_LABELS, STEP_LABELS, Step, TopicAction
from backend.domain.roles import Action
from backend.domain.voting import ITEM_LABELS, VoteKind
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import (
    compound_by_code,
    confirm_step,
    confirmed,
    login_redirect,
    page_number,
    require_user_for_post,
)
from backend.presenters import consultations as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.consultations import (
    AnswerSchema,
    CommentInputSchema,
    HideSchema,
    HouseholdChoiceSchema,
    ObjectionInputSchema,
    OptionFormSchema,
    PaperVoteFormSchema,
    ProgressInputSchema,
    ProposeFormSchema,
    ReviewFormSchema,
    TopicPhotoUploadSchema,
    TopicRatingInputSchema,
    VoteInputSchema,
)
from backend.services import consultations as service
from backend.services.consultations import Acceptance, Decline
from backend.services.photos import photo_response, prepare_photo
from backend.shared.clock import SHANGHAI, utcnow

PAGE_SIZE = 20
COMMENTS_PER_PAGE = 30
ROLL_PER_PAGE = 50
TOPIC_ID = "<int(min=1, max=2147483647):topic_id>"

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
DEFAULT_DELIBERATION = timedelta(days=7)
DEFAULT_VOTING_DAYS = 7


def share_width(part: int, whole: int) -> float:
    """A bar's filled width in percent, for display only (the decision compares integers)."""
    return round(min(part, whole) * 100 / whole, 2) if whole else 0


@h5.app_template_global()
def pending_ballot_count(compound_id: int) -> int:
    """The home page's 待我表决 badge: open ballots where one of my households has not voted yet."""
    return presenter.pending_ballot_count(optional_user_id(), compound_id)


def _needs_sign_in(compound_id: int) -> bool:
    """Signed-out readers must at least have scanned the compound's QR code; others sign in first."""
    return optional_user_id() is None and entry_compound_id() != compound_id


def _files(name: str) -> list:
    # A file input left empty still sends one part with no file name.
    return [item for item in request.files.getlist(name) if item.filename]


def _file(name: str) -> dict:
    """The one file of `name`, as a form's extra value, or nothing (the schema says it is missing)."""
    chosen = _files(name)
    return {name: chosen[0]} if chosen else {}


# ---- the list, 待我表决 and the desk -----------------------------------------------------------------------------


@h5.get("/c/<code>/topics")
def topic_list(code: str):
    compound = compound_by_code(code)
    if _needs_sign_in(compound.id):
        return login_redirect()
    person = presenter.person_in(compound.id, optional_user_id(), entry_compound_id())
    tab = request.args.get("step", DEFAULT_TAB)
    tab = tab if tab in TABS else DEFAULT_TAB
    return render_template(
        "consultations/list.html",
        compound=compound,
        tab=tab,
        tabs=TABS,
        topics=presenter.topic_list(person, TABS[tab][1], page_number(), PAGE_SIZE),
        pending=presenter.pending_ballots(optional_user_id(), compound.id),
    )


@h5.get("/c/<code>/topics/desk")
def topic_desk(code: str):
    """议事台: what waits for the committee, step by step."""
    compound = compound_by_code(code)
    if optional_user_id() is None:
        return login_redirect()
    person = presenter.person_in(compound.id, optional_user_id(), None, Action.RUN_CONSULTATIONS)
    return render_template(
        "consultations/desk.html", compound=compound, desk=presenter.desk(person), format_share=voting.format_share
    )


# ---- propose ----------------------------------------------------------------------------------------------------


def _render_new(compound, offer: presenter.NewTopicForm, form: dict, error: str | None = None):
    return render_template("consultations/new.html", compound=compound, form=form, error=error, offer=offer)


def _refuse_proposal():
    return render_template("error.html", code=403, message="绑定并认证房屋后才能发起议题"), 403


@h5.get("/c/<code>/topics/new")
def topic_form(code: str):
    compound = compound_by_code(code)
    if optional_user_id() is None:
        return login_redirect()
    offer = presenter.new_topic_form(presenter.person_in(compound.id, optional_user_id(), entry_compound_id()))
    return _render_new(compound, offer, {}) if offer.actions else _refuse_proposal()


@h5.post("/c/<code>/topics/new")
def topic_create(code: str):
    compound = compound_by_code(code)
    person = presenter.person_in(compound.id, require_user_for_post(), entry_compound_id())
    offer = presenter.new_topic_form(person)
    if not offer.actions:
        return _refuse_proposal()
    show_refusal_with(lambda refused: _render_new(compound, offer, request.form.to_dict(), refused.message))
    form = load_form(ProposeFormSchema(), photos=_files("photos"))
    photos = [prepare_photo(upload.stream) for upload in form["photos"]]
    if form["raise_"]:
        topic = service.raise_topic(compound.id, person, form["title"], form["body"], photos, ip=client_ip())
    else:
        topic = service.propose_topic(
            compound.id, person, form["household_id"], form["title"], form["body"], photos, ip=client_ip()
        )
    if topic.step is Step.PROPOSED:
        threshold = service.settings_for(compound.id).cosign_threshold
        flash(f"议题已发起，联名达到{threshold}户后进入议题确定", "success")
    else:
        flash("议题已提交，等待议题确定", "success")
    return _to_detail(topic.id)


# ---- detail -------------------------------------------------------------------------------------------------------


def _to_detail(topic_id: int, anchor: str = ""):
    return redirect(url_for("h5.topic_detail", topic_id=topic_id) + (f"#{anchor}" if anchor else ""))


def _review_defaults(compound_id: int) -> dict:
    ends = (utcnow() + DEFAULT_DELIBERATION).astimezone(SHANGHAI)
    return {
        "vote_kind": VoteKind.CONSULTATION.value,
        "civil_code_item": "",
        "deliberation_ends_at": ends.strftime("%Y-%m-%dT%H:%M"),
        "voting_amount": str(DEFAULT_VOTING_DAYS),
        "voting_unit": "days",
        "publicity_days": str(service.settings_for(compound_id).publicity_days),
        "responsible_party": "",
    }


def _render_detail(seen: presenter.Seen, error: str | None = None, form: dict | None = None):
    screen = presenter.topic_screen(
        seen, page_number("comments"), COMMENTS_PER_PAGE, page_number("roll"), ROLL_PER_PAGE
    )
    reviewing = TopicAction.REVIEW in screen.detail.actions
    return render_template(
        "consultations/detail.html",
        screen=screen,
        topic=screen.detail,
        actions=screen.detail.actions,
        error=error,
        form=(_review_defaults(seen.topic.compound_id) if reviewing else {}) | (form or {}),
        item_labels=ITEM_LABELS,
        channel_labels=CHANNEL_LABELS,
        share_width=share_width,
        format_area=voting.format_area,
        format_share=voting.format_share,
    )


def _look(topic_id: int) -> presenter.Seen:
    return presenter.look(topic_id, optional_user_id(), entry_compound_id())


@h5.get(f"/topics/{TOPIC_ID}")
def topic_detail(topic_id: int):
    if _needs_sign_in(presenter.compound_of(topic_id)):
        return login_redirect()
    return _render_detail(_look(topic_id))


@h5.get(f"/topics/{TOPIC_ID}/photos/<int(min=1, max=2147483647):photo_id>")
def topic_photo(topic_id: int, photo_id: int):
    """Proposal and progress photos for everyone of the compound; a paper ballot's only for the committee."""
    seen = _look(topic_id)
    return photo_response(service.visible_photo(seen.topic, photo_id, seen.person), max_age=86400)


# ---- the result -----------------------------------------------------------------------------------------------


@h5.get(f"/topics/{TOPIC_ID}/result")
def topic_result(topic_id: int):
    if _needs_sign_in(presenter.compound_of(topic_id)):
        return login_redirect()
    result = presenter.ballot_result(_look(topic_id).topic, page_number(), ROLL_PER_PAGE)
    if result is None:
        return render_template("error.html", code=404, message="表决结束后才会公布结果"), 404
    return render_template(
        "consultations/result.html",
        result=result,
        format_area=voting.format_area,
    )


# ---- actions ----------------------------------------------------------------------------------------------------


def _acting(topic_id: int) -> presenter.Seen:
    """Who posts one step's form from the topic page. A refusal shows that page again with the reason, the
    entries kept and the refusal's 4xx status, never a 500."""
    seen = presenter.look(topic_id, require_user_for_post(), entry_compound_id())
    show_refusal_with(lambda refused: _render_detail(_look(topic_id), refused.message, request.form.to_dict()))
    return seen


def _done(topic_id: int, message: str, anchor: str = ""):
    flash(message, "success")
    return _to_detail(topic_id, anchor)


@h5.post(f"/topics/{TOPIC_ID}/photos")
def topic_add_photo(topic_id: int):
    seen = _acting(topic_id)
    form = load_form(TopicPhotoUploadSchema(), **_file("photo"))
    service.add_proposal_photo(topic_id, seen.person, prepare_photo(form["photo"].stream), ip=client_ip())
    return _done(topic_id, "照片已添加")


@h5.post(f"/topics/{TOPIC_ID}/cosign")
def topic_cosign(topic_id: int):
    seen = _acting(topic_id)
    form = load_form(HouseholdChoiceSchema())
    topic = service.cosign(topic_id, seen.person, form["household_id"], ip=client_ip())
    if topic.step is Step.REVIEW:
        return _done(topic_id, f"联名成功！已达到{topic.cosign_count}户，议题进入“{STEP_LABELS[Step.REVIEW]}”")
    return _done(topic_id, f"联名成功，已有{topic.cosign_count}户联名")


@h5.post(f"/topics/{TOPIC_ID}/review")
def topic_review(topic_id: int):
    seen = _acting(topic_id)
    review = load_form(ReviewFormSchema())["review"]
    service.review_topic(topic_id, seen.person, review, ip=client_ip())
    if isinstance(review, Acceptance):
        return _done(topic_id, "议题已确定，进入协商讨论", "review")
    if isinstance(review, Decline):
        return _done(topic_id, "已决定不予采纳，原因已公开", "review")
    return _done(topic_id, f"已合并到议题 #{review.into_id}", "review")


@h5.post(f"/topics/{TOPIC_ID}/comments")
def topic_comment(topic_id: int):
    seen = _acting(topic_id)
    service.require(seen.person, TopicAction.COMMENT)
    form = load_form(CommentInputSchema())
    service.add_comment(topic_id, seen.person.user_id, form["body"], form["parent_id"], ip=client_ip())
    return _done(topic_id, "评论已发布", "comments")


@h5.post(f"/topics/{TOPIC_ID}/comments/<int(min=1, max=2147483647):comment_id>/hide")
def topic_hide_comment(topic_id: int, comment_id: int):
    seen = _acting(topic_id)
    form = load_form(HideSchema())
    service.hide_comment(topic_id, comment_id, seen.person, form["reason"], ip=client_ip())
    return _done(topic_id, "评论已隐藏，原因已公开", "comments")


@h5.post(f"/topics/{TOPIC_ID}/options")
def topic_options(topic_id: int):
    seen = _acting(topic_id)
    drafts = load_form(OptionFormSchema())["options"]
    service.set_options(topic_id, seen.person, drafts, ip=client_ip())
    return _done(topic_id, f"表决选项已保存：{'、'.join(draft.label for draft in drafts)}", "options")


def _asking(seen: presenter.Seen, confirmation: presenter.Confirmation | None):
    """The confirm step, unless the person confirmed already or may not act now (the service then says why)."""
    if confirmation is None or confirmed():
        return None
    return confirm_step(confirmation, seen.topic.title, url_for("h5.topic_detail", topic_id=seen.topic.id))


@h5.post(f"/topics/{TOPIC_ID}/ballot/open")
def topic_open_ballot(topic_id: int):
    seen = _acting(topic_id)
    service.require(seen.person, TopicAction.OPEN_BALLOT)
    if asked := _asking(seen, presenter.open_ballot_confirmation(seen)):
        return asked
    topic = service.open_ballot(topic_id, seen.person.user_id, ip=client_ip())
    return _done(topic_id, f"表决已开始，{topic.ballot_closes_at.astimezone(SHANGHAI):%m月%d日 %H:%M}截止", "ballot")


@h5.post(f"/topics/{TOPIC_ID}/vote")
def topic_vote(topic_id: int):
    seen = _acting(topic_id)
    form = load_form(VoteInputSchema())
    receipt = presenter.vote_receipt(service.cast_vote(topic_id, seen.person, form["household_id"],
                                                      form["option_id"]))
    return _done(topic_id, f"已记录您家的表决：{receipt.option_label}。表决截止前可以修改", "ballot")


@h5.post(f"/topics/{TOPIC_ID}/paper-votes")
def topic_paper_vote(topic_id: int):
    """书面表决票 / 委托书: a committee member finds the household by its address and attaches the paper's photo."""
    seen = _acting(topic_id)
    service.require(seen.person, TopicAction.RECORD_PAPER_VOTE)
    form = load_form(PaperVoteFormSchema(), **_file("photo"))
    household = service.household_at(seen.topic.compound_id, form["building_id"], form["unit"], form["room"])
    service.record_paper_vote(
        topic_id, seen.person, household.id, form["option_id"], form["channel"],
        prepare_photo(form["photo"].stream), note=form["note"], ip=client_ip(),
    )
    return _done(topic_id, f"已录入{presenter.address(household)}的{CHANNEL_LABELS[form['channel']]}", "turnout")


@h5.post(f"/topics/{TOPIC_ID}/ballot/close")
def topic_close_ballot(topic_id: int):
    seen = _acting(topic_id)
    service.require(seen.person, TopicAction.CLOSE_BALLOT)
    if asked := _asking(seen, presenter.close_ballot_confirmation(seen)):
        return asked
    result = service.close_ballot(topic_id, seen.person.user_id, ip=client_ip())
    return _done(topic_id, f"表决已结束：{result.reason}，结果已公示")


@h5.post(f"/topics/{TOPIC_ID}/objections")
def topic_objection(topic_id: int):
    seen = _acting(topic_id)
    form = load_form(ObjectionInputSchema())
    service.file_objection(topic_id, seen.person, form["household_id"], form["body"], ip=client_ip())
    return _done(topic_id, "异议已提交，业委会将公开答复", "objections")


@h5.post(f"/topics/{TOPIC_ID}/objections/<int(min=1, max=2147483647):objection_id>/answer")
def topic_answer(topic_id: int, objection_id: int):
    seen = _acting(topic_id)
    form = load_form(AnswerSchema())
    service.answer_objection(topic_id, objection_id, seen.person, form["answer"], ip=client_ip())
    return _done(topic_id, "答复已公开", "objections")


@h5.post(f"/topics/{TOPIC_ID}/progress")
def topic_progress(topic_id: int):
    seen = _acting(topic_id)
    service.require(seen.person, TopicAction.POST_PROGRESS)
    form = load_form(ProgressInputSchema(), photos=_files("photos"))
    photos = [prepare_photo(upload.stream) for upload in form["photos"]]
    service.post_progress(topic_id, seen.person, form["body"], form["is_final"], photos, ip=client_ip())
    return _done(topic_id, "已标记落实完成" if form["is_final"] else "落实进展已发布", "progress")


@h5.post(f"/topics/{TOPIC_ID}/rate")
def topic_rate(topic_id: int):
    seen = _acting(topic_id)
    form = load_form(TopicRatingInputSchema())
    service.rate_implementation(
        topic_id, seen.person, form["household_id"], form["stars"], form["comment"], ip=client_ip()
    )
    return _done(topic_id, "感谢您的评价", "ratings")


@h5.post(f"/topics/{TOPIC_ID}/follow")
def topic_follow(topic_id: int):
    seen = _acting(topic_id)
    service.require(seen.person, TopicAction.FOLLOW)
    service.follow_topic(topic_id, seen.person.user_id)
    return _done(topic_id, "已关注，议题进展会通知您")
