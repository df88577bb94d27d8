"""A work order's life replayed at explicit times, and the bulk insert of many lives: how the demo's handful and
the benchmark's hundreds of thousands of orders are written without living through them."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Connection, Table, func, insert, select

from backend.domain import workorders as rules
from backend.domain.refusals import Kind
from backend.domain.workorders import Action, Actor, EscalationLevel, Phase, Sla, Status, Urgency
from backend.extensions import db
from backend.models import WorkOrder, WorkOrderEscalation, WorkOrderEvent, WorkOrderFollower, WorkOrderRating
from backend.services import workorders as workorder_service


class OrderLife:
    """One work order's life replayed through the state machine at explicit times. It writes what the
    services would have written had it all happened live (the order's columns, its events, the escalation
    steps the 5-minute sweep takes at their due times, the rating), so demo and benchmark orders need no
    clock tricks and a bulk load stays one INSERT per table."""

    def __init__(self, *, compound_id: int, submitter_id: int, category: str, description: str, urgency: Urgency,
                 sla: Sla, created_at: datetime, household_id: int | None = None, building_id: int | None = None,
                 location_text: str = ""):
        accept_due_at = rules.sla_due(created_at, sla, Phase.ACCEPT)
        # The order's columns as attributes, so the services' own bookkeeping (record_step …) runs on it.
        self.order = SimpleNamespace(**{
            "compound_id": compound_id, "submitter_id": submitter_id, "household_id": household_id,
            "building_id": building_id, "location_text": location_text, "category": category,
            "description": description, "urgency": urgency, "status": Status.SUBMITTED, "assignee_id": None,
            "accept_due_at": accept_due_at, "close_due_at": rules.sla_due(created_at, sla, Phase.CLOSE),
            "sla_due_at": accept_due_at, "escalate_at": None, "escalation_level": 0, "accepted_at": None,
            "closed_at": None, "confirmed_at": None, "seconds_to_accept": None, "seconds_to_close": None,
            "closed_within_sla": None, "rating_stars": None, "dispute_count": 0, "urge_count": 0,
            "last_urged_at": None, "rate_reminded": False, "merged_into_id": None, "reject_reason": "",
            "created_at": created_at, "updated_at": created_at,
        })
        self.events: list[dict] = []
        self.escalations: list[dict] = []
        self.rating: dict | None = None
        workorder_service.plan_escalation(self.order)
        self._event(submitter_id, "submit", None, Status.SUBMITTED, "", created_at)

    @property
    def row(self) -> dict:
        """The order's columns as the row to insert (the same storage as `order`'s attributes)."""
        return vars(self.order)

    @property
    def status(self) -> Status:
        return self.order.status

    def act(self, at: datetime, action: Action, actor_id: int, actor: Actor, note: str = "",
            assignee_id: int | None = None) -> None:
        """What services.workorders.transition does, at `at`; TransitionRefused when the script breaks a rule."""
        self._escalate_until(at)
        row = self.row
        if actor is Actor.HANDLER and row["assignee_id"] not in (None, actor_id):
            raise rules.TransitionRefused("只有被派单的工作人员可以处理", Kind.FORBIDDEN)
        awaiting = rules.awaiting_confirmation(row["status"], row["closed_at"], row["confirmed_at"] is not None, at)
        target = rules.next_status(row["status"], action, {actor}, awaiting_confirmation=awaiting)
        if action in (Action.CONFIRM, Action.DISPUTE) and at >= row["closed_at"] + rules.RATE_REMINDER_AFTER:
            # The sweep reminds once an order has waited three days for an answer.
            row["rate_reminded"] = True
        source = row["status"]
        workorder_service.record_step(self.order, action, target, user_id=actor_id, by_staff=actor is Actor.HANDLER,
                                      now=at, note=note, assignee_id=assignee_id)
        self._event(actor_id, action.value, source, target, note, at)

    def urge(self, at: datetime) -> None:
        self._escalate_until(at)
        if not rules.may_urge(self.status, self.row["last_urged_at"], at):
            raise rules.TransitionRefused("4小时内已催办过", Kind.CONFLICT)
        workorder_service.record_urge(self.order, at)
        self._event(self.row["submitter_id"], "urge", None, None, "", at)

    def rate(self, at: datetime, stars: int, tags: Sequence[str] = (), comment: str = "") -> None:
        if self.status is not Status.CLOSED or self.row["confirmed_at"] is None or self.rating is not None:
            raise rules.TransitionRefused("确认已解决后才能评价", Kind.CONFLICT)
        self.rating = {"user_id": self.row["submitter_id"], "stars": stars, "comment": comment,
                       "tags": ",".join(tags), "reply": "", "replied_by_id": None, "replied_at": None,
                       "created_at": at}
        self.row["rating_stars"] = stars
        self._event(self.row["submitter_id"], "rate", None, None, f"{stars}星", at)

    def reply(self, at: datetime, manager_id: int, text: str) -> None:
        self.rating.update(reply=text, replied_by_id=manager_id, replied_at=at)

    def finish(self, now: datetime) -> OrderLife:
        """Take the escalation steps due by `now`, and the rate reminder the sweep would have sent."""
        self._escalate_until(now)
        row = self.row
        if (row["status"] is Status.CLOSED and row["confirmed_at"] is None
                and now >= row["closed_at"] + rules.RATE_REMINDER_AFTER):
            row["rate_reminded"] = True
        return self

    def _escalate_until(self, moment: datetime) -> None:
        # services.workorders.escalate_order: a step already taken in this phase (before a dispute reopened
        # the order) is not taken again, the plan only moves on.
        row = self.row
        while row["escalate_at"] is not None and row["escalate_at"] <= moment:
            # A step already due when a dispute reopens the order is taken by the next sweep, not back in time.
            at, phase = max(row["escalate_at"], row["updated_at"]), rules.phase_of(row["status"])
            level = EscalationLevel(row["escalation_level"] + 1)
            if not any(step["phase"] == phase.value and step["level"] == level for step in self.escalations):
                self.escalations.append({"phase": phase.value, "level": int(level), "created_at": at})
                self._event(None, "escalate", None, None, rules.ESCALATION_LABELS[level], at)
            workorder_service.record_escalation_step(self.order)

    def _event(self, actor_id: int | None, action: str, source: Status | None, target: Status | None, note: str,
               at: datetime) -> None:
        self.events.append({"actor_id": actor_id, "action": action, "from_status": source.value if source else None,
                            "to_status": target.value if target else None, "note": note[:500], "created_at": at})
        self.row["updated_at"] = at


def insert_lives(lives: Sequence[OrderLife]) -> None:
    """Bulk insert: the orders, then their events, followers, escalation steps and ratings."""
    if not lives:
        return
    connection = db.session.connection()
    orders = WorkOrder.__table__
    rows = [life.row | {"status": life.status.value, "urgency": life.row["urgency"].value} for life in lives]
    if connection.dialect.name == "postgresql":
        # COPY is several times faster than multi-row INSERTs; it needs the ids taken from the sequence first.
        sequence = func.pg_get_serial_sequence(orders.name, orders.c.id.name)
        order_ids = sorted(connection.scalars(
            select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows)))
        ))
        rows = [row | {"id": order_id} for row, order_id in zip(rows, order_ids, strict=True)]
    else:
        order_ids = connection.scalars(insert(orders).returning(orders.c.id, sort_by_parameter_order=True), rows).all()
        rows = []
    events, followers, escalations, ratings = [], [], [], []
    for order_id, life in zip(order_ids, lives, strict=True):
        events += [event | {"work_order_id": order_id} for event in life.events]
        followers.append({"work_order_id": order_id, "user_id": life.row["submitter_id"],
                          "created_at": life.row["created_at"]})
        escalations += [step | {"work_order_id": order_id} for step in life.escalations]
        if life.rating is not None:
            ratings.append(life.rating | {"work_order_id": order_id})
    for table, table_rows in ((orders, rows), (WorkOrderEvent.__table__, events),
                              (WorkOrderFollower.__table__, followers), (WorkOrderEscalation.__table__, escalations),
                              (WorkOrderRating.__table__, ratings)):
        if table_rows:
            _write_rows(connection, table, table_rows)


def _write_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Rows with the same keys: COPY on PostgreSQL (plain values: UTC-aware datetimes, enum values as text),
    one executemany elsewhere."""
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    quoted = ", ".join(f'"{column}"' for column in columns)
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(
        f'COPY "{table.name}" ({quoted}) FROM STDIN'
    ) as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def sla_table(compound_id: int) -> dict[str, dict[Urgency, Sla]]:
    return {item.name: {Urgency.NORMAL: item.normal, Urgency.URGENT: item.urgent}
            for item in workorder_service.categories(compound_id)}

