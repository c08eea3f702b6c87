"""Model versions and the live file.

The live model is one file, <models>/dialoga.tar.gz: what `make model` writes, what `rasa run
--model` reads, and what the desk serves to every assistant at /models/live.tar.gz. Promoting a
version replaces that file atomically (os.replace) and records who did it; a live file the desk
has not seen before (e.g. retrained by `make model`) is recorded as a version from outside the
desk when the worker next looks (sync_live)."""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.db import lock_for_writing
from desk.models import ModelSource, ModelStatus, ModelVersion
from desk.models.base import utcnow

LIVE_FILE = "dialoga.tar.gz"
INPUTS_FINGERPRINT_FILE = "fingerprint.sha256"  # written by scripts/train_if_changed.py
CANDIDATES_DIR = "candidates"
ARCHIVE_DIR = "archive"  # copies of live files that came from outside the desk
PROMOTABLE = (ModelStatus.CANDIDATE.value, ModelStatus.RETIRED.value)


class NotPromotable(Exception):
    """Only a candidate that passed the gate, or a version that was live before, can go live."""


class ModelFileMissing(Exception):
    pass


_hash_cache: Dict[Tuple[str, int, int, int], str] = {}
_hash_lock = threading.Lock()


def sha256_of_open_file(handle) -> str:
    """The sha256 of an open file, cached by (name, inode, mtime, size): the model server is asked
    every few seconds by every assistant, and the live file changes only when it is replaced."""
    stat = os.fstat(handle.fileno())
    key = (str(getattr(handle, "name", "")), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _hash_lock:
        cached = _hash_cache.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    position = handle.tell()
    handle.seek(0)
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    handle.seek(position)
    with _hash_lock:
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return sha256_of_open_file(handle)


def live_path(models_dir: Path) -> Path:
    return models_dir / LIVE_FILE


def live_version(session: Session) -> Optional[ModelVersion]:
    return session.scalars(
        select(ModelVersion).where(ModelVersion.status == ModelStatus.LIVE.value).order_by(ModelVersion.id.desc())
    ).first()


def history(session: Session, limit: int = 50) -> List[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(limit)))


def by_sha256(session: Session, sha256: str) -> Optional[ModelVersion]:
    return session.scalars(select(ModelVersion).where(ModelVersion.sha256 == sha256)).first()


def _read_inputs_fingerprint(models_dir: Path) -> Optional[str]:
    path = models_dir / INPUTS_FINGERPRINT_FILE
    return path.read_text().strip() or None if path.exists() else None


def _make_live(session: Session, version: ModelVersion, actor: Optional[str], now: datetime) -> None:
    for other in session.scalars(select(ModelVersion).where(ModelVersion.status == ModelStatus.LIVE.value)):
        if other.id != version.id:
            other.status = ModelStatus.RETIRED.value
    version.status = ModelStatus.LIVE.value
    version.promoted_by = actor
    version.promoted_at = now
    session.flush()


def sync_live(session: Session, models_dir: Path, now: Optional[datetime] = None) -> Optional[ModelVersion]:
    """Make the table agree with the live file: record a file the desk has not seen (archived
    under <models>/archive/ so that it can be restored later) and mark it live."""
    path = live_path(models_dir)
    if not path.exists():
        return live_version(session)
    sha256 = sha256_of(path)
    current = live_version(session)
    if current is not None and current.sha256 == sha256:
        return current
    now = now or utcnow()
    lock_for_writing(session)
    version = by_sha256(session, sha256)
    if version is None:
        archived = models_dir / ARCHIVE_DIR / f"{sha256[:16]}.tar.gz"
        archived.parent.mkdir(parents=True, exist_ok=True)
        if not archived.exists():
            _copy_atomically(path, archived)
        version = ModelVersion(
            sha256=sha256, file_path=str(archived.relative_to(models_dir)),
            inputs_fingerprint=_read_inputs_fingerprint(models_dir), source=ModelSource.OUTSIDE.value,
            status=ModelStatus.RETIRED.value, created_at=now,
        )
        session.add(version)
        session.flush()
    _make_live(session, version, None, now)
    return version


def _copy_atomically(source: Path, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def promote(session: Session, version_id: int, actor: str, models_dir: Path,
            now: Optional[datetime] = None) -> ModelVersion:
    """Put a version live: its file replaces <models>/dialoga.tar.gz in one rename (an assistant
    pulling at that moment gets the old or the new file, never half of one), the inputs
    fingerprint follows it (so `make model` does not retrain the same data), and the table
    records who and when."""
    now = now or utcnow()
    lock_for_writing(session)
    # Two promotions at once wait for each other on the live row: one live version at a time.
    session.scalars(select(ModelVersion).where(ModelVersion.status == ModelStatus.LIVE.value).with_for_update()).all()
    version = session.scalars(
        select(ModelVersion).where(ModelVersion.id == version_id).with_for_update()
    ).first()
    if version is None or version.status not in PROMOTABLE:
        raise NotPromotable(version_id)
    source = models_dir / version.file_path
    if not source.exists():
        raise ModelFileMissing(str(source))
    _copy_atomically(source, live_path(models_dir))
    fingerprint_file = models_dir / INPUTS_FINGERPRINT_FILE
    if version.inputs_fingerprint:
        fingerprint_file.write_text(version.inputs_fingerprint + "\n")
    elif fingerprint_file.exists():
        fingerprint_file.unlink()
    _make_live(session, version, actor, now)
    return version
