"""Schemathesis over /api/v1/openapi.json, in-process, signed in as an admin over seeded data: no 5xx, and
every response matches the documented status codes, content types and schemas. Each operation is a test of its
own (pytest-xdist spreads them over its workers), over data seeded once for the module."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend import create_app
from backend.domain.announcements import Category
from backend.domain.bindings import BindingStatus, Relation
from backend.domain.consultations import Channel, Schedule
from backend.domain.rectifications import ResponsibleParty
from backend.domain.renovation import FundingSource, ItemClass
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.domain.workorders import Urgency
from backend.extensions import db, limiter
from backend.models import BindingRequest, Household, Notice, Notification, TopicPhoto, WorkOrderPhoto
from backend.policy import roles_in_compound
from backend.services import (
    announcements,
    consultations,
    payments,
    photos,
    rectifications,
    renovation,
    surveys,
)
from backend.services.auth import issue_tokens
from backend.services.consultations import Acceptance, OptionDraft
from backend.services.workorders import submit_order
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples
from tests.fees_support import issue_bills_for, make_policy, make_schedule
from tests.support import buildings_of, first_household

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def _openapi_document() -> dict:
    """The document as the app serves it, read at collection so that each operation becomes a test: an app of
    its own that never opens its database or Redis (nothing listens on port 9; secrets given, so none is written
    to instance/). schemathesis then builds each operation's coverage cases at collection (seconds, in each
    pytest-xdist worker); built lazily in each operation's test (`from_fixture`) they cost several times more."""
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "LINLI_REDIS_URL": "redis://127.0.0.1:9/0",
        "SECRET_KEY": "openapi-document", "JWT_SECRET_KEY": "openapi-document",
    })
    return app.test_client().get("/api/v1/openapi.json").json


def build_seeded(area_tree, make_compound, make_user, sign_in) -> dict:
    """A compound with buildings and households, a pending binding, an inbox row of the admin's, work orders
    (one with a photo) and a staff member to assign them to, and the ids worth aiming at; the admin and the
    admin's signed-in headers."""
    admin = make_user(role=Role.ADMIN)
    community = area_tree[3]
    compound = make_compound(area=community, buildings=2, households_per_building=3)
    applicant = make_user()
    binding = BindingRequest(
        user_id=applicant.id, compound_id=compound.id, household_id=first_household(compound).id,
        claimed_name="王秀英", relation=Relation.OWNER, status=BindingStatus.PENDING,
    )
    db.session.add(binding)
    notice = Notice(kind="binding_review", title="新的住户认证申请", urgency="normal", dedupe_key="fuzz-notice")
    db.session.add(notice)
    db.session.flush()
    notification = Notification(user_id=admin.id, notice_id=notice.id, dedupe_key=notice.dedupe_key)
    db.session.add(notification)
    db.session.commit()
    resident = make_user(Role.OWNER, compound, household=first_household(compound))
    staff = make_user(Role.STAFF, compound)
    photo = photos.prepare_photo(photo_samples.camera_jpeg(160, 120).stream())
    order = submit_order(
        user_id=resident.id, compound_id=compound.id, category="水电维修", description="楼道灯不亮",
        urgency=Urgency.NORMAL, building_id=buildings_of(compound)[0].id, location_text="2单元", photos=[photo],
    )
    other = submit_order(
        user_id=resident.id, compound_id=compound.id, category="水电维修", description="楼道灯闪烁",
        urgency=Urgency.NORMAL, building_id=buildings_of(compound)[0].id, location_text="2单元",
    )
    ids = {
        **paid_bill(compound, community, resident),
        "compound_id": compound.id, "binding_id": binding.id, "area_id": community.id,
        "building_id": buildings_of(compound)[0].id, "notification_id": notification.id,
        "order_id": order.id, "photo_id": order_photo_id(order.id), "assignee_id": staff.id,
        "merge_into_id": other.id, **published_topic(compound, resident, admin),
        "survey_id": running_survey(community, resident, admin), **posted_announcement(compound, admin),
        **recorded_inspection(compound, admin),
    }
    ids |= renovation_project(compound, admin, staff)
    return {"ids": ids, "admin": admin, "admin_headers": sign_in(admin)}


def paid_bill(compound, community, resident) -> dict[str, int]:
    """A subsidised bill paid through the sandbox (its receipt) and another still owed."""
    make_schedule(compound)
    make_policy(area_id=community.id, budget_fen=10_000_000)
    bills = issue_bills_for(compound, date(2026, 1, 1))
    started = payments.start_payment(bills[0].id, resident)
    paid = payments.complete_sandbox_payment(started.order.id, resident.id)
    return {"bill_id": bills[1].id, "household_id": bills[1].household_id, "payment_id": paid.id}


def published_topic(compound, resident, admin) -> dict[str, int]:
    """A topic in its publicity with a proposal photo, a comment, a frozen result and an objection: the
    resident votes online, the admin records the other households' paper ballots and closes early."""

    def person(user):
        return consultations.participant(user.id, compound.id, roles_in_compound(user.id, compound.id))

    def photo():
        return photos.prepare_photo(photo_samples.camera_jpeg(160, 120).stream())

    home = first_household(compound)
    topic = consultations.raise_topic(compound.id, person(admin), "加装电梯", "2栋老人多", [photo()])
    schedule = Schedule(utcnow() + timedelta(days=1), 24, 7)
    consultations.accept_topic(
        topic.id, person(admin), Acceptance(VoteRule(VoteKind.OWNERS_JOINT, 7), schedule)
    )
    comment = consultations.add_comment(topic.id, resident.id, "赞成")
    approve, *_ = consultations.set_options(
        topic.id, person(admin), [OptionDraft("同意", is_approval=True), OptionDraft("不同意")]
    )
    consultations.open_ballot(topic.id, admin.id)
    consultations.cast_vote(topic.id, person(resident), home.id, approve.id)
    others = db.session.scalars(
        db.select(Household.id).where(Household.compound_id == compound.id, Household.id != home.id)
    ).all()
    for household_id in others:
        consultations.record_paper_vote(
            topic.id, person(admin), household_id, approve.id, Channel.PAPER, photo()
        )
    consultations.close_ballot(topic.id, admin.id)
    objection = consultations.file_objection(topic.id, person(resident), home.id, "面积有误")
    topic_photo = db.session.scalar(
        db.select(TopicPhoto.id).where(TopicPhoto.topic_id == topic.id).order_by(TopicPhoto.id)
    )
    return {
        "topic_id": topic.id,
        "comment_id": comment.id,
        "objection_id": objection.id,
        "topic_photo_id": topic_photo,
    }


def running_survey(community, resident, admin) -> int:
    """A satisfaction survey over the community, answered by the resident's household."""
    survey = surveys.create_campaign(surveys.CampaignDraft(
        title="满意度测评", area_id=community.id, opens_at=utcnow() - timedelta(hours=1),
        closes_at=utcnow() + timedelta(days=7)), admin.id)
    surveys.submit_sheet(survey.id, resident.id, None, [
        surveys.AnswerInput(question.id, 5) for question in survey.questions if question.required])
    return survey.id


def posted_announcement(compound, admin) -> dict[str, int]:
    """A notice with a photo, posted to the compound."""
    draft = announcements.Draft("停水通知", "明日停水", Category.OUTAGE)
    announcement = announcements.post_to_compound(
        compound.id, admin.id, draft, [photos.prepare_photo(photo_samples.camera_jpeg(160, 120).stream())])
    photo_id = announcements.photos_of([announcement.id])[announcement.id][0].id
    return {"announcement_id": announcement.id, "announcement_photo_id": photo_id}


def recorded_inspection(compound, admin) -> dict[str, int]:
    """A supervision inspection by the admin with one finding (and its photo), still open."""
    today = beijing_date(utcnow())
    finding = rectifications.FindingInput(
        "飞线充电", "楼道飞线充电", ResponsibleParty.COMPANY, today + timedelta(days=7),
        photos=[photos.prepare_photo(photo_samples.camera_jpeg(160, 120).stream())])
    inspection = rectifications.record_inspection(compound.id, admin.id, today, "", ["飞线充电"], [finding])
    item = rectifications.items_of_inspection(inspection.id)[0]
    return {"inspection_id": inspection.id, "rectification_id": item.id,
            "rectification_photo_id": rectifications.photos_of(item.id)[0].id}


def renovation_project(compound, admin, staff) -> dict[str, int]:
    """Issue 19: a renovation project set up by the admin, under way with a photo of the company's staff."""
    project = renovation.create_project(compound.id, admin.id, renovation.ProjectInput(
        "电梯改造", ResponsibleParty.COMPANY, [renovation.ItemInput(ItemClass.BASIC, "电梯", 100, FundingSource.LOCAL)]))
    renovation.post_progress(project.id, staff.id, "施工中", 50,
                             [photos.prepare_photo(photo_samples.camera_jpeg(160, 120).stream())])
    return {"project_id": project.id, "renovation_photo_id": renovation.photos_of(project.id)[0].id}


def order_photo_id(order_id: int) -> int:
    return db.session.scalar(db.select(WorkOrderPhoto.id).where(WorkOrderPhoto.work_order_id == order_id))


@pytest.fixture
def seeded(built_once) -> dict:
    seeded = built_once(build_seeded)
    SEEDED_IDS.update(seeded["ids"])
    return seeded


# The seeded ids the generated cases aim at; filled by `seeded` before a test generates its first case.
SEEDED_IDS: dict[str, int] = {}


def _aim_at(values):
    """Half of the cases keep the generated values, half get the seeded ids where a name matches."""
    known = {name: SEEDED_IDS[name] for name in values if name in SEEDED_IDS} if isinstance(values, dict) else {}
    if not known:
        return st.just(values)
    return st.sampled_from([values, {**values, **known}])


schema = schemathesis.openapi.from_dict(_openapi_document())


# Random ids almost never exist: aim at the seeded rows too, so the work behind a 200 or 201 runs.
@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return _aim_at(path_parameters)


@schema.hook
def flatmap_query(context, query):
    return _aim_at(query)


@schema.hook
def flatmap_body(context, body):
    return _aim_at(body)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    # The cases of an operation share its test's fixtures: the seeded data, rolled back after the operation.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_openapi_document(case, app, seeded):
    # The login endpoints allow 10 calls a minute; without a reset the first operations would use up the
    # budget and every later case would only see 429.
    limiter.reset()
    headers = seeded["admin_headers"]
    if case.path == "/api/v1/auth/logout":
        # Logging out revokes the token it is called with: each case gets a fresh one (minted directly, as
        # the sign-in endpoint would, to skip an argon2 check per case).
        headers = {"Authorization": f"Bearer {issue_tokens(seeded['admin'])[0]}"}
    # Schemathesis reads the body as sent and does not decompress it; compression has tests of its own
    # (tests/test_serving.py).
    headers = headers | {"Accept-Encoding": "identity"}
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)
