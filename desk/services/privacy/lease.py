"""A lease row per cluster-wide job: whoever holds an unexpired lease runs the job, the others
skip it. Works the same on SQLite and PostgreSQL (a conditional UPDATE, or an INSERT that a
unique primary key lets only one process win)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk.db import lock_for_writing
from desk.models import JobLease
from desk.models.base import utcnow


def acquire(session: Session, name: str, holder: str, duration: timedelta, now: Optional[datetime] = None) -> bool:
    """Take the lease `name` for `duration`, unless another holder has it; True when taken."""
    now = now or utcnow()
    lock_for_writing(session)
    taken = session.execute(
        update(JobLease)
        .where(JobLease.name == name, or_(JobLease.expires_at <= now, JobLease.holder == holder))
        .values(holder=holder, expires_at=now + duration)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken:
        return True
    if session.scalars(select(JobLease.name).where(JobLease.name == name)).first() is not None:
        return False
    try:
        with session.begin_nested():
            session.add(JobLease(name=name, holder=holder, expires_at=now + duration))
            session.flush()
    except IntegrityError:
        return False  # another process created it at the same moment
    return True


def release(session: Session, name: str, holder: str) -> None:
    session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(expires_at=datetime(1970, 1, 1))
        .execution_options(synchronize_session=False)
    )
