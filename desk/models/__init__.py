"""The desk's tables. Alembic migrations in desk/migrations follow these models."""
from desk.models.base import Base
from desk.models.knowledge import KnowledgeEntry, KnowledgeFact, KnowledgeVersion
from desk.models.analytics import (AnswerFeedback, AssistantTurn, Clarification, ClarificationChoice,
                                   ClarificationReview)
from desk.models.tickets import Ticket, TicketEvent, TicketEventKind, TicketStatus
from desk.models.outbox import DeliveryStatus, OutboundKind, OutboundMessage
from desk.models.users import Role, User
from desk.models.directory import SERVICE_POINT_KINDS, ServicePoint, ServicePointVersion
from desk.models.learning import DraftStatus, KnowledgeDraft, LearningDecision, LearningDecisionKind
from desk.models.telegram import TelegramUpdate, TicketAttachment
from desk.models.canned import CannedReply
from desk.models.model_versions import JobStatus, ModelSource, ModelStatus, ModelVersion, TrainingJob
from desk.models.privacy import JobLease, PrivacyRequest, PrivacyRun
from desk.models.checks import CheckEvent, CheckParameter, CheckParameterVersion

from desk.models.subscriptions import UpdateNotice, UpdateSubscription

__all__ = ["Base", "KnowledgeEntry", "KnowledgeFact", "KnowledgeVersion", "AnswerFeedback", "AssistantTurn",
           "Clarification", "ClarificationChoice", "ClarificationReview",
           "Ticket", "TicketEvent", "TicketEventKind", "TicketStatus",
           "DeliveryStatus", "OutboundKind", "OutboundMessage", "Role", "User",
           "SERVICE_POINT_KINDS", "ServicePoint", "ServicePointVersion",
           "DraftStatus", "KnowledgeDraft", "LearningDecision", "LearningDecisionKind",
           "TelegramUpdate", "TicketAttachment",
           "CannedReply",
           "JobStatus", "ModelSource", "ModelStatus", "ModelVersion", "TrainingJob",
           "JobLease", "PrivacyRequest", "PrivacyRun",
           "CheckEvent", "CheckParameter", "CheckParameterVersion",
           "UpdateNotice", "UpdateSubscription"]
