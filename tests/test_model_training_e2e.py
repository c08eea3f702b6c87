"""The real training path, once: `dialoga worker --once` claims a job queued from the desk, runs
`rasa train` into models/candidates/, evaluates the candidate and the live model on the
development set with Rasa's Agent, applies the gate and records the version."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from desk import migrate
from desk.config import PROJECT_ROOT
from desk.db import Database
from desk.models import JobStatus, ModelSource, ModelStatus, ModelVersion, TrainingJob
from desk.services.models import jobs, versions
from desk.services.models.evaluation import dataset_fingerprint
from desk.services.models.training import inputs_fingerprint
from eval.run import load_cases
from tests.support.stack import MODEL, VENV_BIN

pytestmark = pytest.mark.e2e


def test_the_worker_trains_evaluates_and_records_a_candidate(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'training.db'}"
    migrate.upgrade(database_url)
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(MODEL, models / "dialoga.tar.gz")
    database = Database(database_url)
    try:
        with database.session() as session:
            job_id = jobs.request_training(session, "supervisor@sportello.example").id
        env = {**os.environ, "DIALOGA_DATABASE_URL": database_url, "DIALOGA_MODELS_DIR": str(models),
               "DIALOGA_SPOOL_DIR": str(tmp_path / "spool"), "RASA_TELEMETRY_ENABLED": "false",
               "TF_CPP_MIN_LOG_LEVEL": "2"}
        env.pop("DIALOGA_LEARNED_NLU_DIR", None)
        result = subprocess.run([str(VENV_BIN / "dialoga"), "worker", "--once"], cwd=PROJECT_ROOT, env=env,
                                capture_output=True, text=True, timeout=1500)
        assert result.returncode == 0, result.stderr[-3000:]

        with database.session() as session:
            job = session.get(TrainingJob, job_id)
            assert job.status in (JobStatus.DONE.value, JobStatus.REFUSED.value), (job.error, job.log_tail)
            assert job.training_started_at <= job.evaluating_started_at <= job.finished_at
            assert job.inputs_fingerprint == inputs_fingerprint(PROJECT_ROOT)
            # the log's tail is shown: it ends with the evaluation's figures
            assert "escalation_recall" in job.log_tail and job.active_slot is None
            candidate = session.get(ModelVersion, job.version_id)
            live = versions.live_version(session)
        assert candidate.file_path.startswith("candidates/") and (models / candidate.file_path).exists()
        assert candidate.sha256 == versions.sha256_of(models / candidate.file_path)
        assert candidate.source == ModelSource.DESK.value
        # Both models measured on the same cases, side by side, and the gate's verdict recorded.
        dataset = dataset_fingerprint(load_cases())
        assert candidate.metrics["dataset"] == live.metrics["dataset"] == dataset
        assert candidate.metrics["compared_with"]["sha256"] == live.sha256
        assert live.source == ModelSource.OUTSIDE.value and live.status == ModelStatus.LIVE.value
        passed = candidate.metrics["gate"]["passed"]
        assert candidate.status == (ModelStatus.CANDIDATE if passed else ModelStatus.REFUSED).value
        assert job.status == (JobStatus.DONE if passed else JobStatus.REFUSED).value
        # Trained on the same data as the live model, the candidate understands as well as it does.
        candidate_all, live_all = candidate.metrics["score"]["all"], live.metrics["score"]["all"]
        assert candidate.metrics["cases"] > 300
        assert abs(candidate_all["accuracy"] - live_all["accuracy"]) < 0.02
        assert live_all["accuracy"] > 0.85 and live_all["escalation_recall"] > 0.8
    finally:
        database.dispose()
