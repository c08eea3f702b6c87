"""Guided checks: the parameters their rules compute with (dated, versioned, editable by
supervisors) and the usage counts of the checks. Nothing the user answers is stored."""
from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from desk.models.base import Base, utcnow


class CheckParameter(Base):
    __tablename__ = "check_parameters"
    __table_args__ = (UniqueConstraint("key", "valid_from", name="uq_check_parameters_key_valid_from"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(120), nullable=False, index=True)
    label = Column(String(300), nullable=False, default="")
    value = Column(String(40), nullable=False)  # a decimal number, or an ISO date for unit "date"
    unit = Column(String(20), nullable=False)
    valid_from = Column(Date, nullable=False)
    valid_until = Column(Date, nullable=True)  # empty: until changed
    topic = Column(String(80), nullable=False)
    source = Column(Text, nullable=False)
    source_url = Column(String(500), nullable=False, default="")
    verified_on = Column(Date, nullable=False)
    unconfirmed = Column(Boolean, nullable=False, default=False)
    version = Column(Integer, nullable=False, default=1)
    # True once anyone but the seed changed it: seeding never overwrites it again.
    edited_in_desk = Column(Boolean, nullable=False, default=False)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    updated_by = Column(String(120), nullable=False, default="seed")

    versions = relationship("CheckParameterVersion", back_populates="parameter",
                            order_by="CheckParameterVersion.version")


class CheckParameterVersion(Base):
    __tablename__ = "check_parameter_versions"
    __table_args__ = (UniqueConstraint("parameter_id", "version", name="uq_check_parameter_versions_parameter_version"),)

    id = Column(Integer, primary_key=True)
    parameter_id = Column(Integer, ForeignKey("check_parameters.id", ondelete="CASCADE"), nullable=False)
    version = Column(Integer, nullable=False)
    content = Column(JSON, nullable=False)
    author = Column(String(120), nullable=False)
    note = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow)

    parameter = relationship("CheckParameter", back_populates="versions")


class CheckEvent(Base):
    """A check started, completed (result shown) or stopped: counts for the reports."""

    __tablename__ = "check_events"
    __table_args__ = (Index("ix_check_events_check_created", "check_id", "created_at"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    check_id = Column(String(40), nullable=False)
    # started | completed | outdated | cancelled
    event = Column(String(20), nullable=False)
    channel = Column(String(40), nullable=False, default="rest")
    language = Column(String(8), nullable=False, default="it")
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
