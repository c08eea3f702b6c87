"""The audit of what the desk did with personal data: every retention purge, every search,
export and erasure of a person's data; and the lease that lets one worker purge at a time."""
from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, String, Text

from desk.models.base import Base, utcnow


class PrivacyRun(Base):
    """One run of the retention purge (or a dry run): who, when, the cut-offs and the counts."""

    __tablename__ = "privacy_runs"

    id = Column(Integer, primary_key=True)
    actor = Column(String(200), nullable=False)  # "worker", "cli" or a desk user's login
    dry_run = Column(Boolean, nullable=False, default=False)
    status = Column(String(20), nullable=False, default="running")  # running | done | failed
    cutoffs = Column(JSON, nullable=False, default=dict)  # {kind: ISO date-time (UTC)}
    counts = Column(JSON, nullable=False, default=dict)  # {kind: rows anonymised or deleted}
    error = Column(Text, nullable=True)
    started_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    finished_at = Column(DateTime, nullable=True)


class PrivacyRequest(Base):
    """A search, export or erasure of one person's data. The identity is stored as a keyed
    hash (desk.services.privacy.retention.identity_hash), never in clear."""

    __tablename__ = "privacy_requests"

    id = Column(Integer, primary_key=True)
    action = Column(String(20), nullable=False)  # search | export | erasure
    actor = Column(String(200), nullable=False)
    identity_kind = Column(String(20), nullable=False)  # contact | telegram | widget
    identity_hash = Column(String(64), nullable=False, index=True)
    counts = Column(JSON, nullable=False, default=dict)  # {what: rows found or erased}
    note = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class JobLease(Base):
    """A job that must run once per cluster (the retention purge) is held by one process until
    expires_at; a holder that dies lets the lease run out."""

    __tablename__ = "job_leases"

    name = Column(String(80), primary_key=True)
    holder = Column(String(200), nullable=False)
    expires_at = Column(DateTime, nullable=False)
