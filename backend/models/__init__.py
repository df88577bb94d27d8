"""Typed models, one module per domain; importing this package registers them all."""
from backend.models.announcements import (
    Announcement,
    AnnouncementCompound,
    AnnouncementPhoto,
    AnnouncementRead,
)
from backend.models.audit import AuditEvent
from backend.models.auth import RevokedToken
from backend.models.backbones import BackboneMember
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
from backend.models.contracts import (
    CompanySelection,
    ContractReminder,
    HandoverInspection,
    HandoverItem,
    HandoverPhoto,
    PropertyContract,
)
from backend.models.dashboard import CompoundFigures, CompoundMonthFigures
from backend.models.disputes import DisputeCase, DisputeParty, DisputeStep
from backend.models.fees import (
    Bill,
    FeeSchedule,
    Payment,
    PaymentOrder,
    PaymentOrderBill,
    Receipt,
    Refund,
    SubsidyGrant,
    SubsidyPolicy,
)
from backend.models.flags import FlagThreshold, ProblemFlag
from backend.models.funds import (
    Disclosure,
    FundAccount,
    FundEntry,
    FundMonth,
    FundSettings,
    FundVoucher,
    FundYear,
    SpendingApproval,
    SpendingQuote,
    SpendingRequest,
    SurplusRefund,
)
from backend.models.governance import FirstSecretary, FirstSecretaryLog, GovernanceRecord
from backend.models.jobs import OutboxJob
from backend.models.meetings import Meeting, MeetingAttendance, MeetingInvitee
from backend.models.notifications import Delivery, Notice, Notification, NotificationPreference
from backend.models.people import Membership, User, WeChatAccount
from backend.models.places import Area, Building, Compound, Household, PropertyCompany, RegisteredOwner
from backend.models.rating import (
    CompanyRating,
    CreditRecord,
    Inspection,
    InspectionItem,
    RatingMethod,
    RatingObjection,
    RatingRound,
)
from backend.models.rectifications import (
    InspectionChecklist,
    Rectification,
    RectificationEscalation,
    RectificationEvent,
    RectificationPhoto,
)
from backend.models.reports import Report
from backend.models.surveys import (
    Survey,
    SurveyAnswer,
    SurveyCompound,
    SurveyEvaluator,
    SurveyQuestion,
    SurveyResponse,
    SurveyTally,
)
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
    "Disclosure",
    "FundAccount",
    "FundEntry",
    "FundMonth",
    "FundSettings",
    "FundVoucher",
    "FundYear",
    "SpendingApproval",
    "SpendingQuote",
    "SpendingRequest",
    "SurplusRefund",
    "FirstSecretary",
    "FirstSecretaryLog",
    "GovernanceRecord",
    "CompoundFigures",
    "CompoundMonthFigures",
    "Announcement",
    "AnnouncementCompound",
    "AnnouncementPhoto",
    "AnnouncementRead",
    "CompanyRating",
    "CreditRecord",
    "Inspection",
    "InspectionChecklist",
    "InspectionItem",
    "RatingMethod",
    "RatingObjection",
    "RatingRound",
    "Survey",
    "SurveyAnswer",
    "SurveyCompound",
    "SurveyEvaluator",
    "SurveyQuestion",
    "SurveyResponse",
    "SurveyTally",
    "Bill",
    "FeeSchedule",
    "Payment",
    "PaymentOrder",
    "PaymentOrderBill",
    "Receipt",
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
    "DisputeCase",
    "DisputeParty",
    "DisputeStep",
    "FlagThreshold",
    "ProblemFlag",
    "Rectification",
    "RectificationEscalation",
    "RectificationEvent",
    "RectificationPhoto",
    "Report",
    "WorkOrder",
    "WorkOrderCategory",
    "WorkOrderEscalation",
    "WorkOrderEvent",
    "WorkOrderFollower",
    "WorkOrderPhoto",
    "WorkOrderRating",
    "Activity",
    "ActivityCheckin",
    "ActivityPhoto",
    "ActivitySignup",
    "CompanySelection",
    "ContractReminder",
    "HandoverInspection",
    "HandoverItem",
    "HandoverPhoto",
    "PropertyContract",
    "BackboneMember",
]

# Issue 19: activities (社区活动).
from backend.models.activities import Activity, ActivityCheckin, ActivityPhoto, ActivitySignup  # noqa: E402

# Issue 19: renovation projects (老旧小区改造).
from backend.models.renovation import (  # noqa: E402
    RenovationItem,
    RenovationPhoto,
    RenovationProject,
    RenovationRating,
    RenovationUpdate,
)

__all__ += ["RenovationItem", "RenovationPhoto", "RenovationProject", "RenovationRating", "RenovationUpdate"]
# Issue 19: environment campaigns.
from backend.models.campaigns import (  # noqa: E402
    BuildingScore,
    CampaignCompound,
    CampaignEvaluator,
    CampaignFinding,
    CampaignPhoto,
    CampaignRound,
    EnvironmentCampaign,
)

__all__ += [
    "BuildingScore",
    "CampaignCompound",
    "CampaignEvaluator",
    "CampaignFinding",
    "CampaignPhoto",
    "CampaignRound",
    "EnvironmentCampaign",
]
