"""党建+ service activities (社区活动): organise, sign up with a waiting list (made once under the activity's row
lock), cancel and promote, check in by signed QR code, the photo report, the day-before reminders, and the
volunteer-hours record read from check-ins."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, case, func, select, update

from backend.domain import activities as rules
from backend.domain.activities import ActivityKind, ActivityStatus, SignupStatus, VolunteerService
from backend.domain.notifications import ACTIVITY_UPDATE
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role, allows
from backend.extensions import db, dialect_insert
from backend.models import Activity, ActivityCheckin, ActivityPhoto, ActivitySignup, Compound, User
from backend.policy import roles_in_compound
from backend.services.audit import record_audit
from backend.services.notifications import notify
from backend.services.photos import PreparedPhoto, kept_only_on_commit, store_photo
from backend.shared.clock import SHANGHAI, utcnow
from backend.shared.pagination import Page

_CHECKIN_SALT = "linli-activity-checkin"
CHECKIN_WINDOW_MESSAGE = "签到时间为活动开始前1小时至活动结束"
# The compound home shows this many coming activities.
HOME_LIMIT = 3


class ActivityRefused(Refused):
    """A request the activity's rules refuse."""


@dataclass(frozen=True)
class CheckIn:
    activity: Activity
    checked_in_at: datetime
    as_volunteer: bool
    already: bool  # a second scan: nothing recorded, the first time is shown


@dataclass(frozen=True)
class SignupLine:
    user_id: int
    name: str
    status: SignupStatus
    as_volunteer: bool
    signed_up_at: datetime
    checked_in_at: datetime | None


@dataclass(frozen=True)
class ServiceLine:
    """One activity served as a volunteer (checked in), for the 志愿服务 record."""

    activity_id: int
    title: str
    compound_name: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class PersonTotal:
    user_id: int
    name: str
    activities: int
    minutes: int


def local_label(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")


def may_organise(activity: Activity, user_id: int | None, roles: frozenset[Role]) -> bool:
    # `roles` are in the activity's compound; having created it grants nothing once the role is gone (a committee
    # member who stepped down no longer reads the sign-up list).
    return user_id is not None and allows(roles, Action.ORGANISE_ACTIVITIES)


# ---- the check-in code (as the meetings': services/meetings.make_checkin_token) ------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_CHECKIN_SALT)


def make_checkin_token(activity: Activity) -> str:
    return _serializer().dumps({"a": activity.id, "v": activity.checkin_version})


def checkin_url(activity: Activity) -> str:
    return (f"{current_app.config['LINLI_PUBLIC_URL']}/h5/activities/{activity.id}/checkin"
            f"?t={make_checkin_token(activity)}")


def _check_token(activity: Activity, token: str) -> None:
    try:
        payload = _serializer().loads(token)
    except BadSignature as exc:
        raise ActivityRefused("签到二维码无效或已被篡改，请扫描活动现场张贴的签到二维码", Kind.FORBIDDEN) from exc
    if not isinstance(payload, dict) or payload.get("a") != activity.id:
        raise ActivityRefused("该签到二维码不属于这次活动", Kind.FORBIDDEN)
    if payload.get("v") != activity.checkin_version:
        raise ActivityRefused("该签到二维码已停用，请扫描现场最新张贴的二维码", Kind.FORBIDDEN)


# ---- organising -------------------------------------------------------------------------------------------------


def create_activity(
    *,
    compound_id: int,
    creator_id: int,
    kind: ActivityKind,
    title: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    organiser: str,
    capacity: int,
    ip: str | None = None,
) -> Activity:
    if not allows(roles_in_compound(creator_id, compound_id), Action.ORGANISE_ACTIVITIES):
        raise ActivityRefused("只有党组织书记、业委会或社区工作人员可以组织活动", Kind.FORBIDDEN)
    now = utcnow()
    try:
        rules.check_times(starts_at, ends_at, now)
    except rules.TimesRefusal as refusal:
        raise ActivityRefused(str(refusal), Kind.INVALID) from None
    activity = Activity(
        compound_id=compound_id, kind=kind, title=title, description=description,
        starts_at=starts_at.astimezone(UTC), ends_at=ends_at.astimezone(UTC), place=place, organiser=organiser,
        created_by_id=creator_id, capacity=capacity, status=ActivityStatus.OPEN, checkin_version=1, report="",
        created_at=now,
    )
    db.session.add(activity)
    db.session.flush()
    record_audit(
        actor_id=creator_id, action="activity.create", target_type="activity", target_id=activity.id,
        compound_id=compound_id, ip=ip,
        after={"kind": kind.value, "title": title, "starts_at": activity.starts_at.isoformat(),
               "ends_at": activity.ends_at.isoformat(), "capacity": capacity},
    )
    db.session.commit()
    return activity


def _locked(activity_id: int) -> Activity:
    activity = db.session.scalar(
        select(Activity).where(Activity.id == activity_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if activity is None:
        raise ActivityRefused("活动不存在", Kind.NOT_FOUND)
    return activity


def cancel_activity(activity_id: int, actor_id: int, roles: frozenset[Role], ip: str | None = None) -> Activity:
    """Call the activity off before it starts; everyone signed up (confirmed or waiting) is told."""
    activity = _locked(activity_id)
    if not may_organise(activity, actor_id, roles):
        raise ActivityRefused("只有活动组织者可以取消活动", Kind.FORBIDDEN)
    now = utcnow()
    if activity.status is not ActivityStatus.OPEN or activity.starts_at <= now:
        raise ActivityRefused("活动已开始或已取消，不能再取消")
    activity.status, activity.cancelled_at = ActivityStatus.CANCELLED, now
    told = list(db.session.scalars(select(ActivitySignup.user_id).where(
        ActivitySignup.activity_id == activity.id, ActivitySignup.status != SignupStatus.CANCELLED)))
    if told:
        notify(sorted(told), ACTIVITY_UPDATE, f"活动“{activity.title}”已取消",
               f"原定{local_label(activity.starts_at)}在{activity.place}举办的活动取消了。",
               link=f"/h5/activities/{activity.id}", dedupe_key=f"activity-{activity.id}-cancelled")
    record_audit(actor_id=actor_id, action="activity.cancel", target_type="activity", target_id=activity.id,
                 compound_id=activity.compound_id, ip=ip, before={"status": "open"}, after={"status": "cancelled"})
    db.session.commit()
    return activity


def renew_checkin_code(activity_id: int, actor_id: int, roles: frozenset[Role], ip: str | None = None) -> Activity:
    """Void every check-in code printed so far (a poster photographed and shared) and issue a new one; check-ins
    already recorded stay."""
    activity = _locked(activity_id)
    if not may_organise(activity, actor_id, roles):
        raise ActivityRefused("只有活动组织者可以重新生成签到二维码", Kind.FORBIDDEN)
    if activity.status is not ActivityStatus.OPEN:
        raise ActivityRefused("活动已取消")
    activity.checkin_version += 1
    record_audit(actor_id=actor_id, action="activity.renew_checkin_code", target_type="activity",
                 target_id=activity.id, compound_id=activity.compound_id, ip=ip,
                 after={"checkin_version": activity.checkin_version})
    db.session.commit()
    return activity


# ---- signing up (made once under the activity's row lock) ----------------------------------------------------------


def _confirmed_count(activity_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ActivitySignup).where(
        ActivitySignup.activity_id == activity_id, ActivitySignup.status == SignupStatus.CONFIRMED)) or 0


def _signup_of(activity_id: int, user_id: int) -> ActivitySignup | None:
    return db.session.scalar(select(ActivitySignup).where(
        ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id))


def sign_up(activity_id: int, user_id: int, as_volunteer: bool) -> ActivitySignup:
    """A place while one is free, else the waiting list. The activity's row is locked first, so the places are
    counted by one request at a time: thirty people tapping at once for twenty places leave twenty confirmed. A
    second sign-up of the same person changes only whether they come to help."""
    activity = _locked(activity_id)
    now = utcnow()
    if not rules.signup_open(now, activity.starts_at, activity.status):
        raise ActivityRefused("活动已开始或已取消，不能报名")
    signup = _signup_of(activity.id, user_id)
    if signup is not None and signup.status is not SignupStatus.CANCELLED:
        signup.as_volunteer = as_volunteer
        db.session.commit()
        return signup
    status = rules.seat_for(_confirmed_count(activity.id), activity.capacity)
    if signup is None:
        signup = ActivitySignup(activity_id=activity.id, user_id=user_id)
        db.session.add(signup)
    # Back at the end of the waiting list: the order is the sign-up's time.
    signup.status, signup.as_volunteer, signup.signed_up_at, signup.changed_at = status, as_volunteer, now, now
    signup.reminded_at = None
    db.session.commit()
    return signup


def cancel_signup(activity_id: int, user_id: int) -> ActivitySignup:
    """Give the place up; under the same lock the first of the waiting list (by sign-up) takes it and is told."""
    activity = _locked(activity_id)
    now = utcnow()
    signup = _signup_of(activity.id, user_id)
    if signup is None or signup.status is SignupStatus.CANCELLED:
        raise ActivityRefused("您没有报名这次活动")
    if not rules.signup_open(now, activity.starts_at, activity.status):
        raise ActivityRefused("活动已开始或已取消，不能取消报名")
    if my_checkin(activity.id, user_id) is not None:
        # The place would go to the waiting list while the check-in still counts as volunteer hours.
        raise ActivityRefused("您已签到，不能取消报名")
    was_confirmed = signup.status is SignupStatus.CONFIRMED
    signup.status, signup.changed_at = SignupStatus.CANCELLED, now
    db.session.flush()
    if was_confirmed:
        _promote(activity, now)
    db.session.commit()
    return signup


def _promote(activity: Activity, now: datetime) -> None:
    if rules.seat_for(_confirmed_count(activity.id), activity.capacity) is not SignupStatus.CONFIRMED:
        return
    first = db.session.scalar(
        select(ActivitySignup)
        .where(ActivitySignup.activity_id == activity.id, ActivitySignup.status == SignupStatus.WAITING)
        .order_by(ActivitySignup.signed_up_at, ActivitySignup.id)
        .limit(1)
    )
    if first is None:
        return
    first.status, first.changed_at = SignupStatus.CONFIRMED, now
    notify([first.user_id], ACTIVITY_UPDATE, f"候补成功：{activity.title}",
           f"有人取消了报名，您已从候补转为正式报名。活动时间{local_label(activity.starts_at)}，地点{activity.place}。",
           link=f"/h5/activities/{activity.id}",
           dedupe_key=f"activity-signup-{first.id}-confirmed-{now.timestamp():.0f}")


# ---- check-in -------------------------------------------------------------------------------------------------------


def get_activity(activity_id: int) -> Activity | None:
    return db.session.get(Activity, activity_id)


def my_checkin(activity_id: int, user_id: int | None) -> ActivityCheckin | None:
    if user_id is None:
        return None
    return db.session.get(ActivityCheckin, (activity_id, user_id))


def check_in(activity_id: int, user_id: int, token: str) -> CheckIn:
    """Record the person once, as a volunteer when their sign-up (confirmed) says so. A second scan records
    nothing and answers with the first time; a first scan outside the window is refused (409)."""
    # A share lock on the activity: check-ins go on side by side, but a cancellation (which locks the row for
    # update) waits for them and sees their check-in, so no one gives up a place and keeps its volunteer hours.
    activity = db.session.scalar(select(Activity).where(Activity.id == activity_id).with_for_update(read=True)
                                 .execution_options(populate_existing=True))
    if activity is None:
        raise ActivityRefused("活动不存在", Kind.NOT_FOUND)
    _check_token(activity, token)
    now = utcnow()
    earlier = my_checkin(activity.id, user_id)
    if earlier is not None:
        return CheckIn(activity, earlier.checked_in_at, earlier.as_volunteer, already=True)
    if activity.status is not ActivityStatus.OPEN:
        raise ActivityRefused("活动已取消")
    if not rules.checkin_open(now, activity.starts_at, activity.ends_at):
        raise ActivityRefused(CHECKIN_WINDOW_MESSAGE)
    signup = _signup_of(activity.id, user_id)
    volunteer = signup is not None and signup.status is SignupStatus.CONFIRMED and signup.as_volunteer
    # Two phones of one person scanning at once: the key keeps one row, the second insert does nothing.
    inserted = db.session.scalar(
        dialect_insert(ActivityCheckin)
        .values(activity_id=activity.id, user_id=user_id, as_volunteer=volunteer, checked_in_at=now)
        .on_conflict_do_nothing(index_elements=["activity_id", "user_id"])
        .returning(ActivityCheckin.checked_in_at)
    )
    db.session.commit()
    if inserted is not None:
        return CheckIn(activity, now, volunteer, already=False)
    first = my_checkin(activity.id, user_id)
    return CheckIn(activity, first.checked_in_at, first.as_volunteer, already=True)


# ---- the photo report -----------------------------------------------------------------------------------------------


def post_report(activity_id: int, actor_id: int, roles: frozenset[Role], text: str,
                photos: Sequence[PreparedPhoto] = (), ip: str | None = None) -> Activity:
    """Write (or correct) the report after the start and add photos to it; audited."""
    activity = _locked(activity_id)
    if not may_organise(activity, actor_id, roles):
        raise ActivityRefused("只有活动组织者可以发布活动报道", Kind.FORBIDDEN)
    now = utcnow()
    if activity.status is not ActivityStatus.OPEN or activity.starts_at > now:
        raise ActivityRefused("活动开始后才能发布活动报道")
    kept = db.session.scalar(select(func.count()).select_from(ActivityPhoto).where(
        ActivityPhoto.activity_id == activity.id)) or 0
    if kept + len(photos) > rules.MAX_PHOTOS:
        raise ActivityRefused(f"活动报道最多{rules.MAX_PHOTOS}张照片", Kind.INVALID)
    before = activity.report
    with kept_only_on_commit() as stored:
        for prepared in photos:
            key = store_photo(prepared)
            stored.append(key)
            db.session.add(ActivityPhoto(activity_id=activity.id, uploader_id=actor_id, storage_key=key,
                                         width=prepared.width, height=prepared.height,
                                         size_bytes=len(prepared.data), created_at=now))
        activity.report = text.strip()
        activity.reported_at = activity.reported_at or now
        record_audit(actor_id=actor_id, action="activity.report", target_type="activity", target_id=activity.id,
                     compound_id=activity.compound_id, ip=ip, before={"report": before},
                     after={"report": activity.report, "photos_added": len(photos)})
        db.session.commit()
    return activity


def photos_of(activity_id: int) -> list[ActivityPhoto]:
    return list(db.session.scalars(
        select(ActivityPhoto).where(ActivityPhoto.activity_id == activity_id).order_by(ActivityPhoto.id)))


def photo_of(activity_id: int, photo_id: int) -> ActivityPhoto | None:
    photo = db.session.get(ActivityPhoto, photo_id)
    return photo if photo is not None and photo.activity_id == activity_id else None


# ---- reading ----------------------------------------------------------------------------------------------------------


def compound_of(activity: Activity) -> Compound:
    return db.session.get(Compound, activity.compound_id)


def activities_page(compound_id: int, page: int, page_size: int, now: datetime) -> Page:
    """Coming ones first (soonest on top, until they end), then past ones, latest first."""
    coming = Activity.ends_at >= now
    query = select(Activity).where(Activity.compound_id == compound_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.order_by(case((coming, 0), else_=1), case((coming, Activity.starts_at)), Activity.starts_at.desc(),
                       Activity.id.desc())
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    return Page(items=list(items), total=total, page=page, page_size=page_size)


def upcoming(compound_id: int, now: datetime, limit: int = HOME_LIMIT) -> list[Activity]:
    return list(db.session.scalars(
        select(Activity)
        .where(Activity.compound_id == compound_id, Activity.status == ActivityStatus.OPEN, Activity.ends_at >= now)
        .order_by(Activity.starts_at, Activity.id).limit(limit)))


def counts(activity_ids: Sequence[int]) -> dict[int, dict[SignupStatus, int]]:
    """Confirmed and waiting per activity, in one query."""
    found: dict[int, dict[SignupStatus, int]] = {i: {SignupStatus.CONFIRMED: 0, SignupStatus.WAITING: 0}
                                                 for i in activity_ids}
    if activity_ids:
        rows = db.session.execute(
            select(ActivitySignup.activity_id, ActivitySignup.status, func.count())
            .where(ActivitySignup.activity_id.in_(activity_ids), ActivitySignup.status != SignupStatus.CANCELLED)
            .group_by(ActivitySignup.activity_id, ActivitySignup.status)).all()
        for activity_id, status, count in rows:
            found[activity_id][status] = count
    return found


def checkin_count(activity_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ActivityCheckin).where(
        ActivityCheckin.activity_id == activity_id)) or 0


def my_signup(activity_id: int, user_id: int | None) -> ActivitySignup | None:
    return _signup_of(activity_id, user_id) if user_id is not None else None


def waiting_position(signup: ActivitySignup) -> int:
    """1 for the first of the waiting list."""
    return (db.session.scalar(select(func.count()).select_from(ActivitySignup).where(
        ActivitySignup.activity_id == signup.activity_id, ActivitySignup.status == SignupStatus.WAITING,
        (ActivitySignup.signed_up_at < signup.signed_up_at)
        | and_(ActivitySignup.signed_up_at == signup.signed_up_at, ActivitySignup.id < signup.id))) or 0) + 1


def signup_lines(activity_id: int) -> list[SignupLine]:
    """Confirmed, then waiting in their order; cancelled last."""
    order = case((ActivitySignup.status == SignupStatus.CONFIRMED, 0),
                 (ActivitySignup.status == SignupStatus.WAITING, 1), else_=2)
    rows = db.session.execute(
        select(ActivitySignup, User.display_name, ActivityCheckin.checked_in_at)
        .join(User, User.id == ActivitySignup.user_id)
        .outerjoin(ActivityCheckin, and_(ActivityCheckin.activity_id == ActivitySignup.activity_id,
                                         ActivityCheckin.user_id == ActivitySignup.user_id))
        .where(ActivitySignup.activity_id == activity_id)
        .order_by(order, ActivitySignup.signed_up_at, ActivitySignup.id)).all()
    return [SignupLine(s.user_id, name or "用户", s.status, s.as_volunteer, s.signed_up_at, at)
            for s, name, at in rows]


# ---- volunteer hours (志愿服务) ----------------------------------------------------------------------------------


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=SHANGHAI)
    return start.astimezone(UTC), datetime(year + 1, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)


def _served(year: int):
    first, after = _year_bounds(year)
    return (
        select(ActivityCheckin.user_id, Activity.id, Activity.title, Activity.starts_at, Activity.ends_at,
               Compound.name)
        .join(Activity, Activity.id == ActivityCheckin.activity_id)
        .join(Compound, Compound.id == Activity.compound_id)
        .where(ActivityCheckin.as_volunteer.is_(True), Activity.status == ActivityStatus.OPEN,
               Activity.starts_at >= first, Activity.starts_at < after)
    )


def person_name(user_id: int) -> str:
    return db.session.scalar(select(User.display_name).where(User.id == user_id)) or "用户"


def service_lines(user_id: int, year: int) -> list[ServiceLine]:
    rows = db.session.execute(_served(year).where(ActivityCheckin.user_id == user_id)
                              .order_by(Activity.starts_at, Activity.id)).all()
    return [ServiceLine(row.id, row.title, row.name, row.starts_at, row.ends_at) for row in rows]


def compound_totals(compound_id: int, year: int) -> list[PersonTotal]:
    """Per person, the year's volunteer service at this compound's activities: most hours first."""
    rows = db.session.execute(_served(year).where(Activity.compound_id == compound_id)).all()
    by_person: dict[int, list[VolunteerService]] = {}
    for row in rows:
        by_person.setdefault(row.user_id, []).append(VolunteerService(row.id, row.starts_at, row.ends_at))
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(by_person))).all())
    totals = [PersonTotal(user_id, names.get(user_id) or "用户", len({s.activity_id for s in services}),
                          rules.minutes_by_year(services).get(year, 0))
              for user_id, services in by_person.items()]
    return sorted(totals, key=lambda total: (-total.minutes, total.user_id))


# ---- the day-before reminders (cron) ---------------------------------------------------------------------------------


def due_reminder_ids(now: datetime, limit: int = 500) -> list[int]:
    """Confirmed sign-ups of open activities starting within a day, not yet reminded (or passed over)."""
    return list(db.session.scalars(
        select(ActivitySignup.id)
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(ActivitySignup.status == SignupStatus.CONFIRMED, ActivitySignup.reminded_at.is_(None),
               Activity.status == ActivityStatus.OPEN, Activity.starts_at > now,
               Activity.starts_at <= now + rules.REMINDER_LEAD)
        .order_by(Activity.starts_at, ActivitySignup.id).limit(limit)))


def remind(signup_id: int, now: datetime) -> bool:
    """Claim the sign-up's reminder in one statement (reminded_at IS NULL in its WHERE: a second run, or a second
    cron process, finds nothing to claim) and send it when due; False when nothing was sent."""
    claimed = db.session.scalar(
        update(ActivitySignup)
        .where(ActivitySignup.id == signup_id, ActivitySignup.reminded_at.is_(None),
               ActivitySignup.status == SignupStatus.CONFIRMED)
        .values(reminded_at=now)
        .returning(ActivitySignup.activity_id)
    )
    if claimed is None:
        db.session.rollback()
        return False
    signup = db.session.get(ActivitySignup, signup_id)
    activity = db.session.get(Activity, claimed)
    if not rules.reminder_due(now, activity.starts_at, signup.signed_up_at):
        # Signed up (or taken from the waiting list by a new sign-up) within the day: passed over, once.
        db.session.commit()
        return False
    # The notifications path holds a normal notice's push until 08:00 when the sweep runs in quiet hours.
    notify([signup.user_id], ACTIVITY_UPDATE, f"活动提醒：{activity.title}",
           f"您报名的活动将于{local_label(activity.starts_at)}在{activity.place}开始，请准时参加。",
           link=f"/h5/activities/{activity.id}",
           dedupe_key=f"activity-signup-{signup.id}-reminder-{signup.signed_up_at.timestamp():.0f}")
    db.session.commit()
    return True
