"""The desk's tables. Alembic migrations in desk/migrations follow these models."""
from desk.models.base import Base
from desk.models.knowledge import KnowledgeEntry, KnowledgeVersion
from desk.models.analytics import AnswerFeedback, AssistantTurn
from desk.models.tickets import Ticket, TicketEvent, TicketEventKind, TicketStatus
from desk.models.outbox import DeliveryStatus, OutboundKind, OutboundMessage
from desk.models.users import Role, User
from desk.models.directory import SERVICE_POINT_KINDS, ServicePoint
from desk.models.learning import DraftStatus, KnowledgeDraft, LearningDecision, LearningDecisionKind
from desk.models.telegram import TelegramUpdate, TicketAttachment
from desk.models.canned import CannedReply
from desk.models.checks import CheckEvent, CheckParameter, CheckParameterVersion

__all__ = ["Base", "KnowledgeEntry", "KnowledgeVersion", "AnswerFeedback", "AssistantTurn",
           "Ticket", "TicketEvent", "TicketEventKind", "TicketStatus",
           "DeliveryStatus", "OutboundKind", "OutboundMessage", "Role", "User",
           "SERVICE_POINT_KINDS", "ServicePoint",
           "DraftStatus", "KnowledgeDraft", "LearningDecision", "LearningDecisionKind",
           "TelegramUpdate", "TicketAttachment",
           "CannedReply", "CheckEvent", "CheckParameter", "CheckParameterVersion"]
