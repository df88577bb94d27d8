"""Typed models, one module per domain; importing this package registers them all."""
from backend.models.audit import AuditEvent
from backend.models.auth import RevokedToken
from backend.models.base import Base
from backend.models.bindings import BindingRequest
from backend.models.consultations import (
    BallotOption,
    BallotResult,
    BallotRoll,
    ConsultationSettings,
    Topic,
    TopicComment,
    TopicCosign,
    TopicFollower,
    TopicObjection,
    TopicPhoto,
    TopicProgress,
    TopicRating,
    Vote,
    VoteCast,
)
from backend.models.fees import Bill, FeeSchedule, Payment, PaymentOrder, Refund, SubsidyGrant, SubsidyPolicy
from backend.models.jobs import OutboxJob
from backend.models.meetings import Meeting, MeetingAttendance, MeetingInvitee
from backend.models.notifications import Delivery, Notice, Notification, NotificationPreference
from backend.models.people import Membership, User, WeChatAccount
from backend.models.places import Area, Building, Compound, Household, PropertyCompany, RegisteredOwner
from backend.models.workorders import (
    ScoreSnapshot,
    WorkOrder,
    WorkOrderCategory,
    WorkOrderEscalation,
    WorkOrderEvent,
    WorkOrderFollower,
    WorkOrderPhoto,
    WorkOrderRating,
)

__all__ = [
    "Bill",
    "FeeSchedule",
    "Payment",
    "PaymentOrder",
    "Refund",
    "SubsidyGrant",
    "SubsidyPolicy",
    "BallotOption",
    "BallotResult",
    "BallotRoll",
    "ConsultationSettings",
    "Meeting",
    "MeetingAttendance",
    "MeetingInvitee",
    "Topic",
    "TopicComment",
    "TopicCosign",
    "TopicFollower",
    "TopicObjection",
    "TopicPhoto",
    "TopicProgress",
    "TopicRating",
    "Vote",
    "VoteCast",
    "Area",
    "AuditEvent",
    "Base",
    "BindingRequest",
    "Building",
    "Compound",
    "Delivery",
    "Household",
    "Membership",
    "Notice",
    "Notification",
    "NotificationPreference",
    "OutboxJob",
    "PropertyCompany",
    "RegisteredOwner",
    "RevokedToken",
    "ScoreSnapshot",
    "User",
    "WeChatAccount",
    "WorkOrder",
    "WorkOrderCategory",
    "WorkOrderEscalation",
    "WorkOrderEvent",
    "WorkOrderFollower",
    "WorkOrderPhoto",
    "WorkOrderRating",
]
