"""The assistant's trained models: every version the desk has seen (trained from the desk or
by `make model`) with its held-out figures, and the training jobs the worker runs."""
from enum import Enum

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, Text

from desk.models.base import Base, utcnow


class ModelStatus(str, Enum):
    CANDIDATE = "candidate"  # trained and not worse than the live model: may be promoted
    REFUSED = "refused"  # worse than the live model on the development set
    LIVE = "live"  # what the assistant serves (models/dialoga.tar.gz)
    RETIRED = "retired"  # was live once


class ModelSource(str, Enum):
    DESK = "desk"  # trained by the worker at a supervisor's request
    OUTSIDE = "outside"  # found as the live file, e.g. trained by `make model`


class JobStatus(str, Enum):
    QUEUED = "queued"
    TRAINING = "training"
    EVALUATING = "evaluating"
    DONE = "done"  # a candidate that passed the gate
    REFUSED = "refused"  # trained, but worse than the live model
    FAILED = "failed"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED.value, JobStatus.TRAINING.value, JobStatus.EVALUATING.value)


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id = Column(Integer, primary_key=True)
    sha256 = Column(String(64), nullable=False, unique=True)  # of the .tar.gz: the ETag the assistant sees
    file_path = Column(String(500), nullable=False)  # relative to the models folder
    # Hash of the training inputs (config, domain, data, our components): scripts/train_if_changed.py's.
    inputs_fingerprint = Column(String(64), nullable=True)
    source = Column(String(20), nullable=False, default=ModelSource.DESK.value)
    status = Column(String(20), nullable=False, default=ModelStatus.CANDIDATE.value)
    # {"dataset": <hash of eval/heldout>, "score": eval.run.score(...), "gate": {...}}
    metrics = Column(JSON, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    promoted_by = Column(String(200), nullable=True)
    promoted_at = Column(DateTime, nullable=True)

    @property
    def model_status(self) -> ModelStatus:
        return ModelStatus(self.status)


class TrainingJob(Base):
    __tablename__ = "training_jobs"

    id = Column(Integer, primary_key=True)
    status = Column(String(20), nullable=False, default=JobStatus.QUEUED.value)
    # 1 while the job is queued or running, NULL afterwards: a unique column, so that at most one
    # job is active at a time on every database (NULLs never collide).
    active_slot = Column(Integer, nullable=True, unique=True)
    requested_by = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    training_started_at = Column(DateTime, nullable=True)
    evaluating_started_at = Column(DateTime, nullable=True)
    finished_at = Column(DateTime, nullable=True)
    # The worker holding the job, until lease_until; it renews the lease while it works.
    claimed_by = Column(String(200), nullable=True)
    lease_until = Column(DateTime, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    log_tail = Column(Text, nullable=False, default="")
    error = Column(Text, nullable=True)
    inputs_fingerprint = Column(String(64), nullable=True)
    version_id = Column(Integer, ForeignKey("model_versions.id", ondelete="SET NULL"), nullable=True)

    @property
    def job_status(self) -> JobStatus:
        return JobStatus(self.status)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES
