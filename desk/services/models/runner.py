"""The worker's side of a training job: train a candidate with `rasa train`, evaluate it (and the
live model, unless its figures on the same development set are cached on its version), apply the
gate, record the version. Rasa runs in child processes, so the worker stays small."""
from __future__ import annotations

import logging
import math
import os
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from desk.db import Database
from desk.models import JobStatus, ModelSource, ModelStatus, ModelVersion
from desk.models.base import utcnow
from desk.services.models import evaluation, gate, jobs, training, versions

log = logging.getLogger("dialoga.training")


class LeaseLost(Exception):
    """Another worker took the job over (this one was too slow to renew its lease)."""


@dataclass(frozen=True)
class TrainingSetup:
    project_root: Path
    models_dir: Path
    learned_nlu_dir: Optional[Path] = None
    rasa: Path = Path(sys.executable).parent / "rasa"
    lease_seconds: int = 120
    poll_seconds: float = 5.0
    train_timeout: float = 1800.0
    eval_timeout: float = 1200.0

    @classmethod
    def from_settings(cls, settings) -> "TrainingSetup":
        from desk.config import PROJECT_ROOT

        return cls(project_root=PROJECT_ROOT, models_dir=settings.models_dir, learned_nlu_dir=settings.learned_nlu_dir)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def json_safe(value):
    """NaN (a language without cases) is not JSON on PostgreSQL: store it as null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def claim_and_run(database: Database, setup: TrainingSetup, worker: str) -> Optional[JobStatus]:
    """Claim the next job and run it to its end; None when there was nothing to do."""
    with database.session() as session:
        job = jobs.claim_next(session, worker, setup.lease_seconds)
        job_id = job.id if job is not None else None
    if job_id is None:
        return None
    return run_job(database, setup, job_id, worker)


def run_job(database: Database, setup: TrainingSetup, job_id: int, worker: str) -> Optional[JobStatus]:
    extra = training.extra_nlu_dirs(setup.project_root, setup.learned_nlu_dir)
    fingerprint = training.inputs_fingerprint(setup.project_root, extra)
    name = f"{utcnow():%Y%m%d-%H%M%S}-job{job_id}"
    candidates = setup.models_dir / versions.CANDIDATES_DIR
    candidates.mkdir(parents=True, exist_ok=True)
    log_file = candidates / f"{name}.log"

    lease = {"lost": False}

    def keep_going(tail: Optional[str] = None) -> bool:
        with database.session() as session:
            held = jobs.renew(session, job_id, worker, setup.lease_seconds, tail)
        lease["lost"] = not held
        return held

    try:
        log.info("training job %d: rasa train -> %s", job_id, name)
        code = training.run_logged(
            training.training_command(setup.rasa, candidates, name, extra), setup.project_root, log_file,
            keep_going, setup.train_timeout, setup.poll_seconds,
        )
        if code != 0:
            raise RuntimeError(f"rasa train exited with {code}")
        model_file = candidates / f"{name}.tar.gz"
        if not model_file.exists():
            raise RuntimeError(f"rasa train wrote no {model_file.name}")
        with database.session() as session:
            if not jobs.start_evaluating(session, job_id, worker, setup.lease_seconds):
                raise LeaseLost(job_id)
        status = _evaluate_and_record(database, setup, job_id, worker, model_file, fingerprint, log_file, keep_going)
        log.info("training job %d: %s", job_id, status.value)
        return status
    except LeaseLost:
        log.warning("training job %d was taken over by another worker", job_id)
        return None
    except Exception as error:  # noqa: BLE001 - every failure is shown on the desk's page
        if lease["lost"]:
            log.warning("training job %d was taken over by another worker", job_id)
            return None
        log.exception("training job %d failed", job_id)
        with database.session() as session:
            jobs.finish(session, job_id, worker, JobStatus.FAILED, error=str(error),
                        log_tail=training.log_tail(log_file), inputs_fingerprint=fingerprint)
        return JobStatus.FAILED


def _evaluate_and_record(database, setup, job_id, worker, model_file, fingerprint, log_file, keep_going) -> JobStatus:
    with database.session() as session:
        live = versions.sync_live(session, setup.models_dir)
        live_id = live.id if live is not None else None
        live_file = setup.models_dir / live.file_path if live is not None else None
        cached = live.metrics if live is not None else None
    measured = evaluation.evaluate_in_child_process(
        model_file, log_file.with_suffix(".json"), log_file, live=live_file,
        live_dataset=(cached or {}).get("dataset"), keep_waiting=keep_going,
        timeout=setup.eval_timeout, poll_seconds=setup.poll_seconds,
    )
    candidate_figures = json_safe({"dataset": measured["dataset"], **measured["models"][str(model_file)]})
    live_figures = cached
    if live_file is not None and str(live_file) in measured["models"]:
        live_figures = json_safe({"dataset": measured["dataset"], **measured["models"][str(live_file)]})
    decision = gate.judge(candidate_figures["score"]["all"], live_figures["score"]["all"] if live_figures else None)
    status = JobStatus.DONE if decision.passed else JobStatus.REFUSED
    with database.session() as session:
        compared_with = None
        if live_id is not None:
            live_row = session.get(ModelVersion, live_id)
            live_row.metrics = {**(live_row.metrics or {}), **live_figures}  # keeps how it passed the gate
            compared_with = {"version_id": live_id, "sha256": live_row.sha256, "score": live_figures["score"]}
        version = ModelVersion(
            sha256=versions.sha256_of(model_file), file_path=str(model_file.relative_to(setup.models_dir)),
            inputs_fingerprint=fingerprint, source=ModelSource.DESK.value,
            status=(ModelStatus.CANDIDATE if decision.passed else ModelStatus.REFUSED).value,
            metrics={**candidate_figures, "compared_with": compared_with, "gate": json_safe(decision.as_dict())},
            created_at=utcnow(),
        )
        session.add(version)
        session.flush()
        if not jobs.finish(session, job_id, worker, status, version.id, log_tail=training.log_tail(log_file),
                           inputs_fingerprint=fingerprint):
            raise LeaseLost(job_id)
    return status


class BackgroundTrainer:
    """Used by `dialoga worker`: at each round, if no training runs in this process, claim a job
    and run it in a thread, so that the worker's other duties go on meanwhile."""

    def __init__(self, database: Database, setup: TrainingSetup, worker: Optional[str] = None) -> None:
        self.database = database
        self.setup = setup
        self.worker = worker or worker_name()
        self._thread: Optional[threading.Thread] = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def poll(self) -> None:
        with self.database.session() as session:
            versions.sync_live(session, self.setup.models_dir)
        if self.busy:
            return
        with self.database.session() as session:
            job = jobs.claim_next(session, self.worker, self.setup.lease_seconds)
            job_id = job.id if job is not None else None
        if job_id is None:
            return
        self._thread = threading.Thread(
            target=run_job, args=(self.database, self.setup, job_id, self.worker), name=f"training-{job_id}", daemon=True
        )
        self._thread.start()

    def join(self, timeout: Optional[float] = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
