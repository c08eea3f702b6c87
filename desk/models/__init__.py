"""The desk's tables. Alembic migrations in desk/migrations follow these models."""
from desk.models.base import Base
from desk.models.knowledge import KnowledgeEntry, KnowledgeFact, KnowledgeVersion
from desk.models.analytics import AnswerFeedback, AssistantTurn
from desk.models.tickets import Ticket, TicketEvent, TicketEventKind, TicketStatus
from desk.models.outbox import DeliveryStatus, OutboundKind, OutboundMessage
from desk.models.users import Role, User
from desk.models.directory import SERVICE_POINT_KINDS, ServicePoint, ServicePointVersion
from desk.models.learning import DraftStatus, KnowledgeDraft, LearningDecision, LearningDecisionKind
from desk.models.telegram import TelegramUpdate, TicketAttachment
from desk.models.canned import CannedReply
from desk.models.subscriptions import UpdateNotice, UpdateSubscription

__all__ = ["Base", "KnowledgeEntry", "KnowledgeFact", "KnowledgeVersion", "AnswerFeedback", "AssistantTurn",
           "Ticket", "TicketEvent", "TicketEventKind", "TicketStatus",
           "DeliveryStatus", "OutboundKind", "OutboundMessage", "Role", "User",
           "SERVICE_POINT_KINDS", "ServicePoint", "ServicePointVersion",
           "DraftStatus", "KnowledgeDraft", "LearningDecision", "LearningDecisionKind",
           "TelegramUpdate", "TicketAttachment",
           "CannedReply", "UpdateNotice", "UpdateSubscription"]
