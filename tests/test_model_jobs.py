"""Training jobs and model versions on SQLite and PostgreSQL: one active job, claimed by one
worker, taken over when its worker dies; the live file recorded and promoted with its history."""
import gzip
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from desk.config import PROJECT_ROOT
from desk.models import JobStatus, ModelSource, ModelStatus, ModelVersion, TrainingJob
from desk.models.base import utcnow
from desk.services.models import jobs, runner, versions
from desk.services.models.jobs import TrainingAlreadyActive
from desk.services.models.training import extra_nlu_dirs, inputs_fingerprint, training_command
from desk.services.models.versions import NotPromotable
from tests.support.stack import VENV_BIN


def queued_job(database, actor="sup@sportello.example"):
    with database.session() as session:
        return jobs.request_training(session, actor).id


def test_only_one_training_is_queued_or_running_at_a_time(database):
    job_id = queued_job(database)
    with database.session() as session:
        with pytest.raises(TrainingAlreadyActive) as refused:
            jobs.request_training(session, "other@sportello.example")
        assert refused.value.job.id == job_id
    with database.session() as session:
        claimed = jobs.claim_next(session, "w1")
        assert jobs.finish(session, claimed.id, "w1", JobStatus.FAILED, error="boom")
    assert queued_job(database) != job_id  # a finished job frees the slot


def test_two_workers_claim_a_job_once(database):
    job_id = queued_job(database)
    barrier = threading.Barrier(2)
    claims = {}

    def claim(worker):
        barrier.wait()
        with database.session() as session:
            job = jobs.claim_next(session, worker)
            claims[worker] = job.id if job is not None else None

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("worker-a", "worker-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(claims.values(), key=str) == [job_id, None]
    winner = next(worker for worker, claimed in claims.items() if claimed)
    loser = next(worker for worker in claims if worker != winner)
    with database.session() as session:
        job = session.get(TrainingJob, job_id)
        assert (job.status, job.claimed_by, job.attempts) == (JobStatus.TRAINING.value, winner, 1)
        assert not jobs.renew(session, job_id, loser)  # the other worker cannot touch it
        assert not jobs.start_evaluating(session, job_id, loser)
        assert jobs.renew(session, job_id, winner, log_tail="epoch 1")


def test_a_job_whose_worker_died_is_taken_over_when_the_lease_ends(database):
    job_id = queued_job(database)
    now = utcnow()
    with database.session() as session:
        jobs.claim_next(session, "dead", lease_seconds=60, now=now)
    with database.session() as session:
        assert jobs.claim_next(session, "alive", now=now + timedelta(seconds=30)) is None
        taken = jobs.claim_next(session, "alive", now=now + timedelta(seconds=61))
        assert (taken.id, taken.claimed_by, taken.attempts) == (job_id, "alive", 2)
    with database.session() as session:
        # The first worker comes back: its result is not recorded.
        assert not jobs.finish(session, job_id, "dead", JobStatus.DONE)
        assert jobs.finish(session, job_id, "alive", JobStatus.REFUSED)
        assert session.get(TrainingJob, job_id).status == JobStatus.REFUSED.value


def test_a_job_that_kills_its_workers_fails_after_the_last_attempt(database):
    job_id = queued_job(database)
    moment = utcnow()
    for attempt in range(jobs.MAX_ATTEMPTS):
        with database.session() as session:
            assert jobs.claim_next(session, f"w{attempt}", lease_seconds=1, now=moment).id == job_id
        moment += timedelta(seconds=2)
    with database.session() as session:
        assert jobs.claim_next(session, "last", now=moment) is None
        job = session.get(TrainingJob, job_id)
        assert job.status == JobStatus.FAILED.value and "attempts" in job.error and job.active_slot is None


def write_model(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(content, mtime=0))
    return path


def test_the_live_file_is_recorded_and_a_promotion_replaces_it(database, tmp_path):
    models = tmp_path / "models"
    write_model(models / "dialoga.tar.gz", b"trained by make model")
    (models / "fingerprint.sha256").write_text("inputs-a\n")
    with database.session() as session:
        outside = versions.sync_live(session, models)
        assert (outside.status, outside.source, outside.inputs_fingerprint) == ("live", ModelSource.OUTSIDE.value, "inputs-a")
        assert (models / outside.file_path).read_bytes() == (models / "dialoga.tar.gz").read_bytes()
        assert versions.sync_live(session, models).id == outside.id  # nothing new: nothing recorded
        candidate_file = write_model(models / "candidates" / "new.tar.gz", b"trained from the desk")
        candidate = ModelVersion(sha256=versions.sha256_of(candidate_file), file_path="candidates/new.tar.gz",
                                 inputs_fingerprint="inputs-b", status=ModelStatus.CANDIDATE.value)
        refused = ModelVersion(sha256="f" * 64, file_path="candidates/bad.tar.gz", status=ModelStatus.REFUSED.value)
        session.add_all([candidate, refused])
        session.flush()
        candidate_id, refused_id, outside_id = candidate.id, refused.id, outside.id
    with database.session() as session:
        with pytest.raises(NotPromotable):
            versions.promote(session, refused_id, "sup@sportello.example", models)
    with database.session() as session:
        versions.promote(session, candidate_id, "sup@sportello.example", models)
    assert (models / "dialoga.tar.gz").read_bytes() == (models / "candidates" / "new.tar.gz").read_bytes()
    assert (models / "fingerprint.sha256").read_text().strip() == "inputs-b"
    with database.session() as session:
        live = versions.live_version(session)
        assert (live.id, live.promoted_by) == (candidate_id, "sup@sportello.example") and live.promoted_at
        assert session.get(ModelVersion, outside_id).status == ModelStatus.RETIRED.value
        assert versions.sync_live(session, models).id == candidate_id
        # Going back: the retired version can be restored.
        versions.promote(session, outside_id, "admin@sportello.example", models)
        assert versions.live_version(session).id == outside_id
        assert [v.id for v in versions.history(session)][:3] == [refused_id, candidate_id, outside_id]
    assert gzip.decompress((models / "dialoga.tar.gz").read_bytes()) == b"trained by make model"


def test_a_training_that_fails_is_recorded_with_the_tail_of_its_log(database, tmp_path):
    fake_rasa = tmp_path / "rasa"
    fake_rasa.write_text("#!/bin/sh\necho 'InvalidDomain: the domain is broken'\nexit 3\n")
    fake_rasa.chmod(0o755)
    setup = runner.TrainingSetup(project_root=PROJECT_ROOT, models_dir=tmp_path / "models", rasa=fake_rasa,
                                 poll_seconds=0.2)
    job_id = queued_job(database)
    assert runner.claim_and_run(database, setup, "w1") is JobStatus.FAILED
    assert runner.claim_and_run(database, setup, "w1") is None  # nothing left to do
    with database.session() as session:
        job = session.get(TrainingJob, job_id)
        assert job.status == JobStatus.FAILED.value and job.finished_at and job.active_slot is None
        assert "exited with 3" in job.error and "the domain is broken" in job.log_tail
        assert job.inputs_fingerprint and len(job.inputs_fingerprint) == 64


def test_a_worker_stops_training_when_another_took_the_job_over(database, tmp_path):
    slow_rasa = tmp_path / "rasa"
    slow_rasa.write_text("#!/bin/sh\necho training\nsleep 30\n")
    slow_rasa.chmod(0o755)
    setup = runner.TrainingSetup(project_root=PROJECT_ROOT, models_dir=tmp_path / "models", rasa=slow_rasa,
                                 poll_seconds=0.2)
    job_id = queued_job(database)
    with database.session() as session:
        jobs.claim_next(session, "slow")
    with database.session() as session:
        session.get(TrainingJob, job_id).claimed_by = "someone-else"
    started = utcnow()
    assert runner.run_job(database, setup, job_id, "slow") is None
    assert (utcnow() - started).total_seconds() < 20
    with database.session() as session:
        assert session.get(TrainingJob, job_id).status == JobStatus.TRAINING.value  # left to its new owner


def test_the_learning_loops_folder_is_trained_on_when_it_lives_outside_data_nlu(tmp_path):
    learned = tmp_path / "learned"
    (learned / "it").mkdir(parents=True)
    (learned / "it" / "learned.yml").write_text('version: "3.1"\nnlu: []\n')
    assert extra_nlu_dirs(PROJECT_ROOT, PROJECT_ROOT / "data" / "nlu") == []
    assert extra_nlu_dirs(PROJECT_ROOT, learned) == [learned.resolve()]
    command = training_command(VENV_BIN / "rasa", tmp_path / "out", "name", [learned])
    assert command[command.index("--data") + 1:command.index("--out")] == [
        "data/nlu", "data/rules", "data/stories", str(learned)]
    assert inputs_fingerprint(PROJECT_ROOT, [learned]) != inputs_fingerprint(PROJECT_ROOT)
