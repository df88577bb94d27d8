"""Spending requests (支出申请): filing one with its quotes, the committee's two approvals or a rejection below the
compound's threshold, the owners' vote above it (a topic raised in the deliberation module with the vote its
purpose fixes), the status the finished vote gives, and the request locked for the journal to spend against.

The deliberation module knows nothing of money: a request under the vote reads the topic's frozen result when it
is next touched (read, approved, spent against) and the sweep settles the rest, each under the request's row lock."""
from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from backend.domain import spending as rules
from backend.domain.consultations import Step
from backend.domain.funds import (
    CATEGORY_LABELS,
    DEFAULT_SPENDING_THRESHOLD_FEN,
    SPENDING_PURPOSE_LABELS,
    Category,
    FundRefused,
    SpendingPurpose,
    SpendingStatus,
)
from backend.domain.notifications import SPENDING_DECIDED, SPENDING_DESK
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    BallotResult,
    Compound,
    FundSettings,
    Membership,
    SpendingApproval,
    SpendingQuote,
    SpendingRequest,
    Topic,
    User,
)
from backend.policy import NOT_FOUND
from backend.services.audit import record_audit
from backend.services.consultations.common import audit as audit_topic
from backend.services.consultations.common import follow, tell_desk
from backend.services.documents import PDF, prepare_document, store_document
from backend.services.fund_access import FundAccess, fund_access, require
from backend.services.notifications import notify
from backend.services.photos import PhotoMissing, kept_only_on_commit, load_photo
from backend.shared.clock import utcnow
from backend.shared.pagination import Page, paginate


@dataclass(frozen=True)
class RequestDraft:
    title: str
    purpose: SpendingPurpose
    amount_fen: int
    category: Category
    payee: str
    description: str = ""
    emergency: bool = False


def _hidden() -> FundRefused:
    return FundRefused(NOT_FOUND, Kind.NOT_FOUND)


def threshold_for(compound_id: int) -> int:
    settings = db.session.get(FundSettings, compound_id)
    return settings.spending_threshold_fen if settings is not None else DEFAULT_SPENDING_THRESHOLD_FEN


def compound_name(compound_id: int) -> str:
    return db.session.scalar(select(Compound.name).where(Compound.id == compound_id)) or ""


def link(request_id: int) -> str:
    return f"/h5/spending-requests/{request_id}"


# ---- filing -------------------------------------------------------------------------------------------------------


def create_request(compound_id: int, user_id: int | None, draft: RequestDraft,
                   quotes: Sequence[typing.BinaryIO] = (), entry_compound_id: int | None = None,
                   ip: str | None = None) -> SpendingRequest:
    """File a request (those who keep the books or sit on the committee). At or below the threshold it waits for
    two committee members; above it a topic is raised at once for the owners, accepted by the desk with the vote
    the purpose fixes. An emergency repair's request may be spent against at once and is ratified the same way."""
    access = check_may_request(compound_id, user_id, entry_compound_id)
    rules.check_category(access.model, draft.category)
    if len(quotes) > rules.MAX_QUOTES:
        raise FundRefused(f"报价最多上传{rules.MAX_QUOTES}个文件", Kind.INVALID,
                          errors={"quotes": [f"报价最多上传{rules.MAX_QUOTES}个文件"]})
    prepared = [prepare_document(stream) for stream in quotes]
    threshold = threshold_for(compound_id)
    voting = rules.needs_owners_vote(draft.amount_fen, threshold)
    with kept_only_on_commit() as stored:
        request = SpendingRequest(
            compound_id=compound_id, requester_id=user_id, title=draft.title, purpose=draft.purpose,
            description=draft.description, amount_fen=draft.amount_fen, category=draft.category, payee=draft.payee,
            status=SpendingStatus.VOTING if voting else SpendingStatus.PENDING, threshold_fen=threshold,
            emergency=draft.emergency,
        )
        db.session.add(request)
        db.session.flush()
        for document in prepared:
            db.session.add(SpendingQuote(request_id=request.id, uploader_id=user_id,
                                         storage_key=store_document(document, "spending", stored),
                                         content_type=document.content_type, size_bytes=len(document.data)))
        if voting:
            request.topic_id = _raise_topic(request, user_id, ip).id
        record_audit(actor_id=user_id, action="spending.request", target_type="spending_request",
                     target_id=request.id, compound_id=compound_id, ip=ip, after={
                         "amount_fen": draft.amount_fen, "purpose": draft.purpose.value, "status": request.status.value,
                         "threshold_fen": threshold, "emergency": draft.emergency, "quotes": len(prepared),
                         "topic_id": request.topic_id})
        if not voting:
            _tell_committee(request)
        db.session.commit()
    return request


def _raise_topic(request: SpendingRequest, user_id: int, ip: str | None) -> Topic:
    """The owners' vote as a topic waiting at the desk (议题确定), in the same transaction as the request: the
    desk accepts it with the kind and item the body names; a result of another kind does not approve."""
    rule = rules.vote_rule_for(request.purpose)
    body = "\n".join(filter(None, [
        f"支出申请：{request.title}",
        f"金额：¥{request.amount_fen / 100:,.2f}（超过业委会审批限额 ¥{request.threshold_fen / 100:,.2f}，须业主表决）",
        f"用途：{SPENDING_PURPOSE_LABELS[request.purpose]}；类别：{CATEGORY_LABELS[request.category]}；"
        f"收款方：{request.payee}",
        f"表决事项：{rules.vote_rule_label(rule)}",
        "表决选项：同意/不同意/弃权，以“同意”是否通过为准（候选项式的表决不能批准支出）",
        "紧急维修：已先行支出，请业主表决追认。" if request.emergency else "",
        request.description,
        f"申请详情与报价：{link(request.id)}",
    ]))
    topic = Topic(compound_id=request.compound_id, proposer_id=user_id, title=f"支出表决：{request.title}"[:60],
                  body=body, step=Step.REVIEW)
    db.session.add(topic)
    db.session.flush()
    follow(topic.id, user_id)
    audit_topic(topic, user_id, "topic.raise", after={"title": topic.title, "step": Step.REVIEW,
                                                      "spending_request_id": request.id}, ip=ip)
    tell_desk(topic, f"支出申请“{request.title}”须业主表决，等待确定议题", "topic-review",
              f"请按{rules.vote_rule_label(rule)}确定议题，表决选项用“同意/不同意/弃权”。")
    return topic


def _committee_ids(compound_id: int) -> list[int]:
    return list(db.session.scalars(select(Membership.user_id).distinct().where(
        Membership.compound_id == compound_id, Membership.role.in_((Role.COMMITTEE, Role.PARTY_SECRETARY)))))


def _tell_committee(request: SpendingRequest) -> None:
    desk = [user_id for user_id in _committee_ids(request.compound_id) if user_id != request.requester_id]
    if desk:
        notify(desk, SPENDING_DESK, f"支出申请“{request.title}”等待审批",
               f"¥{request.amount_fen / 100:,.2f}，收款方：{request.payee}", link=link(request.id),
               dedupe_key=f"spending-{request.id}-waiting")


def _tell_requester(request: SpendingRequest) -> None:
    label = "已批准" if request.status is SpendingStatus.APPROVED else "未批准"
    notify([request.requester_id], SPENDING_DECIDED, f"支出申请“{request.title}”{label}",
           request.decision_note, link=link(request.id), dedupe_key=f"spending-{request.id}-decided")


# ---- deciding -----------------------------------------------------------------------------------------------------


def _locked(request_id: int) -> SpendingRequest:
    request = db.session.scalar(
        select(SpendingRequest).where(SpendingRequest.id == request_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise _hidden()
    return request


def _for_decision(request_id: int, user_id: int | None, entry_compound_id: int | None) -> SpendingRequest:
    compound_id = db.session.scalar(select(SpendingRequest.compound_id).where(SpendingRequest.id == request_id))
    if compound_id is None:
        raise _hidden()
    access = fund_access(compound_id, user_id, entry_compound_id)
    require(access, "see_spending")
    require(access, "approve_spending")
    return _locked(request_id)


def approve(request_id: int, user_id: int | None, entry_compound_id: int | None = None,
            ip: str | None = None) -> SpendingRequest:
    """A committee member's yes. The request's row lock orders approvals: the second distinct member's yes
    approves it, once; the requester and a member approving twice are refused."""
    request = _for_decision(request_id, user_id, entry_compound_id)
    rules.check_approval(request.status, request.requester_id, user_id)
    if db.session.get(SpendingApproval, (request.id, user_id)) is not None:
        raise FundRefused("您已经审批同意过了")
    db.session.add(SpendingApproval(request_id=request.id, approver_id=user_id))
    db.session.flush()
    approvals = db.session.scalar(select(func.count()).where(SpendingApproval.request_id == request.id))
    request.status = rules.status_after_approvals(approvals)
    record_audit(actor_id=user_id, action="spending.approve", target_type="spending_request", target_id=request.id,
                 compound_id=request.compound_id, ip=ip,
                 after={"approvals": approvals, "status": request.status.value})
    if request.status is SpendingStatus.APPROVED:
        request.decided_at = utcnow()
        request.decision_note = f"业委会{approvals}名成员审批同意"
        _tell_requester(request)
    db.session.commit()
    return request


def reject(request_id: int, user_id: int | None, note: str, entry_compound_id: int | None = None,
           ip: str | None = None) -> SpendingRequest:
    """A committee member turns a pending request down with a reason (a member who filed it withdraws it so)."""
    request = _for_decision(request_id, user_id, entry_compound_id)
    rules.check_rejection(request.status)
    request.status = SpendingStatus.REJECTED
    request.decided_at = utcnow()
    request.decision_note = note
    record_audit(actor_id=user_id, action="spending.reject", target_type="spending_request", target_id=request.id,
                 compound_id=request.compound_id, ip=ip, after={"note": note})
    _tell_requester(request)
    db.session.commit()
    return request


def _settle_locked(request: SpendingRequest) -> bool:
    """Apply the topic's outcome to a locked request under the vote; True when its status changed."""
    if request.status is not SpendingStatus.VOTING or request.topic_id is None:
        return False
    topic_step = db.session.scalar(select(Topic.step).where(Topic.id == request.topic_id))
    result = db.session.get(BallotResult, request.topic_id)
    outcome = (rules.VoteOutcome(kind=result.vote_kind, item=result.civil_code_item, passed=result.passed,
                                 motion=any(option.get("is_approval") for option in result.options.values()))
               if result is not None else None)
    status, note = rules.status_from_vote(request.purpose, topic_step, outcome)
    if status is SpendingStatus.VOTING:
        return False
    request.status, request.decision_note, request.decided_at = status, note, utcnow()
    record_audit(actor_id=None, action=f"spending.vote_{status.value}", target_type="spending_request",
                 target_id=request.id, compound_id=request.compound_id,
                 after={"topic_id": request.topic_id, "note": note})
    _tell_requester(request)
    return True


def _settleable():
    """Requests under a vote whose topic has a result or was not adopted: only these can change."""
    return (
        select(SpendingRequest.id).join(Topic, Topic.id == SpendingRequest.topic_id)
        .outerjoin(BallotResult, BallotResult.topic_id == Topic.id)
        .where(SpendingRequest.status == SpendingStatus.VOTING,
               (BallotResult.topic_id.is_not(None)) | Topic.step.in_((Step.DECLINED, Step.MERGED)))
    )


def settle(request_id: int) -> None:
    """Bring one request up to its topic's result; a read of one still voting takes no lock."""
    if db.session.scalar(_settleable().where(SpendingRequest.id == request_id)) is None:
        return
    if _settle_locked(_locked(request_id)):
        db.session.commit()
    else:
        db.session.rollback()


def settleable_ids(limit: int = 200) -> list[int]:
    """For the sweep: the requests still under a vote whose topic has a result or was not adopted."""
    ids = list(db.session.scalars(_settleable().order_by(SpendingRequest.id).limit(limit)))
    db.session.rollback()
    return ids


def settle_vote(request_id: int) -> bool:
    """The sweep's step for one request, committed on its own; whether it changed."""
    changed = _settle_locked(_locked(request_id))
    db.session.commit()
    return changed


def locked_for_spending(request_id: int, compound_id: int) -> SpendingRequest | None:
    """For the journal, inside its transaction: the request locked (so that expenses against it serialize) and
    brought up to its vote, or None when the compound has no such request. The journal then checks it may be
    spent against (`domain.funds.spendable`) and sums what was spent."""
    request = db.session.scalar(
        select(SpendingRequest).where(SpendingRequest.id == request_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None or request.compound_id != compound_id:
        return None
    _settle_locked(request)
    return request


# ---- reading ------------------------------------------------------------------------------------------------------


def seen(request_id: int, user_id: int | None, entry_compound_id: int | None = None
         ) -> tuple[SpendingRequest, FundAccess]:
    """The request (settled against its vote first) as someone who may see the compound's spending sees it."""
    compound_id = db.session.scalar(select(SpendingRequest.compound_id).where(SpendingRequest.id == request_id))
    if compound_id is None:
        raise _hidden()
    access = fund_access(compound_id, user_id, entry_compound_id)
    require(access, "see_spending")
    settle(request_id)
    return db.session.get(SpendingRequest, request_id), access


def requests_page(compound_id: int, user_id: int | None, status: SpendingStatus | None, page: int, page_size: int,
                  entry_compound_id: int | None = None) -> tuple[Page, FundAccess]:
    access = fund_access(compound_id, user_id, entry_compound_id)
    require(access, "see_spending")
    for request_id in db.session.scalars(_settleable().where(SpendingRequest.compound_id == compound_id)).all():
        settle(request_id)
    query = select(SpendingRequest).where(SpendingRequest.compound_id == compound_id)
    if status is not None:
        query = query.where(SpendingRequest.status == status)
    rows = paginate(query.order_by(SpendingRequest.created_at.desc(), SpendingRequest.id.desc()), page, page_size)
    return Page(items=[row[0] for row in rows.items], total=rows.total, page=page, page_size=page_size), access


def approvals_of(request_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """Per request, its approvers (id, name) in order."""
    found: dict[int, list[tuple[int, str]]] = {request_id: [] for request_id in request_ids}
    if not request_ids:
        return found
    rows = db.session.execute(
        select(SpendingApproval.request_id, User.id, User.display_name).join(User, User.id == SpendingApproval.approver_id)
        .where(SpendingApproval.request_id.in_(request_ids)).order_by(SpendingApproval.created_at, User.id)
    ).all()
    for request_id, approver_id, name in rows:
        found[request_id].append((approver_id, name))
    return found


def names_of(user_ids: Sequence[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(set(user_ids)))).all())


def quotes_of(request_id: int) -> list[SpendingQuote]:
    return list(db.session.scalars(select(SpendingQuote).where(SpendingQuote.request_id == request_id)
                                   .order_by(SpendingQuote.id)))


def topic_step(topic_id: int | None) -> Step | None:
    return db.session.scalar(select(Topic.step).where(Topic.id == topic_id)) if topic_id else None


@dataclass(frozen=True)
class QuoteFile:
    data: bytes
    content_type: str
    filename: str


def quote_file(quote_id: int, user_id: int | None, entry_compound_id: int | None = None) -> QuoteFile:
    """A quote's file, to whoever may see the compound's spending."""
    quote = db.session.get(SpendingQuote, quote_id)
    if quote is None:
        raise _hidden()
    request = db.session.get(SpendingRequest, quote.request_id)
    require(fund_access(request.compound_id, user_id, entry_compound_id), "see_spending")
    try:
        data = load_photo(quote.storage_key)
    except PhotoMissing:
        raise _hidden() from None
    extension = "pdf" if quote.content_type == PDF else "jpg"
    return QuoteFile(data, quote.content_type, f"spending-{request.id}-quote-{quote.id}.{extension}")


def check_may_request(compound_id: int, user_id: int | None, entry_compound_id: int | None = None) -> FundAccess:
    access = fund_access(compound_id, user_id, entry_compound_id)
    require(access, "request_spending")
    return access
