"""Training jobs: requested from the desk, run by one worker.

At most one job is active (queued, training or evaluating) at a time: a unique `active_slot`
backs the check. A worker claims the oldest queued job with a lease (row locks skipped on
PostgreSQL, the write lock on SQLite), so two workers never train the same job; it renews the
lease while it works and records every stage only while it still holds it. A job whose worker
died is claimed again when its lease ends, up to MAX_ATTEMPTS times."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk.db import lock_for_writing
from desk.models import JobStatus, TrainingJob
from desk.models.base import utcnow
from desk.models.model_versions import ACTIVE_JOB_STATUSES

MAX_ATTEMPTS = 3
RUNNING = (JobStatus.TRAINING.value, JobStatus.EVALUATING.value)


class TrainingAlreadyActive(Exception):
    def __init__(self, job: Optional[TrainingJob]) -> None:
        super().__init__("a training job is already queued or running")
        self.job = job


def active_job(session: Session) -> Optional[TrainingJob]:
    return session.scalars(
        select(TrainingJob).where(TrainingJob.status.in_(ACTIVE_JOB_STATUSES)).order_by(TrainingJob.id)
    ).first()


def recent_jobs(session: Session, limit: int = 10) -> List[TrainingJob]:
    return list(session.scalars(select(TrainingJob).order_by(TrainingJob.id.desc()).limit(limit)))


def get(session: Session, job_id: int) -> Optional[TrainingJob]:
    return session.get(TrainingJob, job_id)


def request_training(session: Session, actor: str, now: Optional[datetime] = None) -> TrainingJob:
    lock_for_writing(session)
    existing = active_job(session)
    if existing is not None:
        raise TrainingAlreadyActive(existing)
    job = TrainingJob(status=JobStatus.QUEUED.value, active_slot=1, requested_by=actor,
                      created_at=now or utcnow(), attempts=0, log_tail="")
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        raise TrainingAlreadyActive(active_job(session)) from None
    return job


def claim_next(session: Session, worker: str, lease_seconds: int = 120,
               now: Optional[datetime] = None) -> Optional[TrainingJob]:
    """The oldest queued job, or a running one whose worker's lease ended, now held by `worker`."""
    now = now or utcnow()
    lock_for_writing(session)
    job = session.scalars(
        select(TrainingJob)
        .where(or_(
            TrainingJob.status == JobStatus.QUEUED.value,
            (TrainingJob.status.in_(RUNNING)) & (TrainingJob.lease_until < now),
        ))
        .order_by(TrainingJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if job is None:
        return None
    if job.attempts >= MAX_ATTEMPTS:
        _finish(job, JobStatus.FAILED, now, error=f"stopped after {job.attempts} attempts (the worker died each time)")
        session.flush()
        return None
    job.status = JobStatus.TRAINING.value
    job.claimed_by = worker
    job.lease_until = now + timedelta(seconds=lease_seconds)
    job.attempts += 1
    job.training_started_at = now
    job.evaluating_started_at = None
    job.log_tail = ""
    session.flush()
    return job


def _held_by(job_id: int, worker: str):
    return (TrainingJob.id == job_id) & (TrainingJob.claimed_by == worker) & TrainingJob.status.in_(RUNNING)


def renew(session: Session, job_id: int, worker: str, lease_seconds: int = 120, log_tail: Optional[str] = None,
          now: Optional[datetime] = None) -> bool:
    """Extend the lease (and show the log's tail); False when the job is no longer this worker's."""
    now = now or utcnow()
    values = {"lease_until": now + timedelta(seconds=lease_seconds)}
    if log_tail is not None:
        values["log_tail"] = log_tail
    result = session.execute(update(TrainingJob).where(_held_by(job_id, worker)).values(**values))
    return result.rowcount == 1


def start_evaluating(session: Session, job_id: int, worker: str, lease_seconds: int = 120,
                     now: Optional[datetime] = None) -> bool:
    now = now or utcnow()
    result = session.execute(
        update(TrainingJob).where(_held_by(job_id, worker)).values(
            status=JobStatus.EVALUATING.value, evaluating_started_at=now,
            lease_until=now + timedelta(seconds=lease_seconds),
        )
    )
    return result.rowcount == 1


def _finish(job: TrainingJob, status: JobStatus, now: datetime, error: Optional[str] = None) -> None:
    job.status = status.value
    job.active_slot = None
    job.finished_at = now
    job.lease_until = None
    if error is not None:
        job.error = error[:4000]


def finish(session: Session, job_id: int, worker: str, status: JobStatus, version_id: Optional[int] = None,
           error: Optional[str] = None, log_tail: Optional[str] = None, inputs_fingerprint: Optional[str] = None,
           now: Optional[datetime] = None) -> bool:
    """Record the outcome (done, refused or failed) if the job is still this worker's."""
    job = session.scalars(select(TrainingJob).where(_held_by(job_id, worker)).with_for_update()).first()
    if job is None:
        return False
    _finish(job, status, now or utcnow(), error)
    job.version_id = version_id
    if log_tail is not None:
        job.log_tail = log_tail
    if inputs_fingerprint is not None:
        job.inputs_fingerprint = inputs_fingerprint
    session.flush()
    return True
