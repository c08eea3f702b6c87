"""The Modelli page (supervisors): start a training, follow it, see the figures side by side,
promote; and the model server the assistants pull the live model from, with its token and ETag."""
import gzip
import hashlib

import pytest

from desk.models import JobStatus, ModelStatus, ModelVersion, Role
from desk.services.models import jobs, versions
from tests.support.desk import desk_app_for, log_in, make_user, post_form

TOKEN = "model-server-secret"


def model_bytes(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


@pytest.fixture
def models_dir(tmp_path):
    folder = tmp_path / "models"
    (folder / "candidates").mkdir(parents=True)
    (folder / "dialoga.tar.gz").write_bytes(model_bytes("live model"))
    return folder


@pytest.fixture
def app(seeded_database, models_dir):
    return desk_app_for(seeded_database, models_dir=models_dir, model_server_token=TOKEN)


def client_as(app, database, role):
    client = app.test_client()
    assert log_in(client, make_user(database, role)).status_code == 302
    return client


def figures(accuracy, wrong_topic, recall):
    row = {"accuracy": accuracy, "wrong_topic": wrong_topic, "escalation_recall": recall, "escalated_in_scope": 0.02}
    return {"all": row, "it": row, "en": row}


def finished_job_with_candidate(database, models_dir, passed=True):
    (models_dir / "candidates" / "new.tar.gz").write_bytes(model_bytes("candidate model"))
    with database.session() as session:
        live = versions.sync_live(session, models_dir)
        job = jobs.request_training(session, "supervisor@sportello.example")
        jobs.claim_next(session, "w1")
        candidate = ModelVersion(
            sha256=versions.sha256_of(models_dir / "candidates" / "new.tar.gz"), file_path="candidates/new.tar.gz",
            status=(ModelStatus.CANDIDATE if passed else ModelStatus.REFUSED).value,
            metrics={"cases": 384, "score": figures(0.981 if passed else 0.9, 0.003, 0.956),
                     "compared_with": {"sha256": live.sha256, "score": figures(0.973, 0.003, 0.956)},
                     "gate": {"passed": passed, "checks": [
                         {"metric": "accuracy", "label": "Accuratezza", "candidate": 0.981 if passed else 0.9,
                          "live": 0.973, "tolerance": 0.0, "higher_is_better": True, "passed": passed}]}},
        )
        session.add(candidate)
        session.flush()
        jobs.finish(session, job.id, "w1", JobStatus.DONE if passed else JobStatus.REFUSED, candidate.id,
                    log_tail="Your Rasa model is trained and saved")
        return job.id, candidate.id, live.id


def test_operators_cannot_open_the_page_supervisors_can(app, seeded_database):
    assert client_as(app, seeded_database, Role.OPERATOR).get("/modelli/").status_code == 403
    page = client_as(app, seeded_database, Role.SUPERVISOR).get("/modelli/")
    assert page.status_code == 200 and "Modelli dell'assistente" in page.get_data(as_text=True)


def test_a_supervisor_queues_one_training_and_follows_it(app, seeded_database):
    client = client_as(app, seeded_database, Role.SUPERVISOR)
    response = post_form(client, "/modelli/addestra", page="/modelli/", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Addestramento in coda" in html and "Addestramento n. 1" in html
    assert 'hx-get="/modelli/stato"' in html  # the job's section refreshes itself
    again = post_form(client, "/modelli/addestra", page="/modelli/", follow_redirects=True).get_data(as_text=True)
    assert "già un addestramento" in again
    with seeded_database.session() as session:
        assert [job.status for job in jobs.recent_jobs(session)] == ["queued"]
        jobs.claim_next(session, "w1")
        jobs.renew(session, 1, "w1", log_tail="Epochs: 100%|██████████| 1/1")
    fragment = client.get("/modelli/stato").get_data(as_text=True)
    assert 'aria-current="step"' in fragment and "Addestramento</strong>" in fragment and "Epochs: 100%" in fragment
    assert 'hx-trigger="every' in fragment
    assert "HX-Refresh" not in client.get("/modelli/stato", headers={"HX-Request": "true"}).headers


def test_a_finished_job_shows_both_models_figures_and_promotes(app, seeded_database, models_dir):
    job_id, candidate_id, live_id = finished_job_with_candidate(seeded_database, models_dir)
    client = client_as(app, seeded_database, Role.SUPERVISOR)
    fragment = client.get("/modelli/stato").get_data(as_text=True)
    assert "hx-trigger" not in fragment  # nothing left to follow
    # The page that was following the job reloads once, to show the history and the button.
    assert client.get("/modelli/stato", headers={"HX-Request": "true"}).headers.get("HX-Refresh") == "true"
    assert "Superato" in fragment and "98.1%" in fragment and "97.3%" in fragment
    assert f'/modelli/{candidate_id}/attiva' in fragment
    response = post_form(client, f"/modelli/{candidate_id}/attiva", page="/modelli/", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "è ora quello attivo" in html
    assert (models_dir / "dialoga.tar.gz").read_bytes() == model_bytes("candidate model")
    with seeded_database.session() as session:
        live = versions.live_version(session)
        assert (live.id, live.promoted_by) == (candidate_id, "supervisor@sportello.example")
        assert session.get(ModelVersion, live_id).status == "retired"
    history = html[html.index("Storico dei modelli"):]
    assert "supervisor@sportello.example" in history and "Ripristina" in history


def test_a_refused_candidate_cannot_be_promoted(app, seeded_database, models_dir):
    _, candidate_id, _ = finished_job_with_candidate(seeded_database, models_dir, passed=False)
    client = client_as(app, seeded_database, Role.SUPERVISOR)
    fragment = client.get("/modelli/stato").get_data(as_text=True)
    assert "Rifiutato" in fragment and "✘ Accuratezza" in fragment
    assert f'/modelli/{candidate_id}/attiva' not in fragment
    html = post_form(client, f"/modelli/{candidate_id}/attiva", page="/modelli/", follow_redirects=True).get_data(as_text=True)
    assert "non può diventare attivo" in html
    assert (models_dir / "dialoga.tar.gz").read_bytes() == model_bytes("live model")


def test_the_model_server_needs_its_token_and_answers_with_the_files_hash(app, seeded_database, models_dir):
    client = app.test_client()
    assert client.get("/models/live.tar.gz").status_code == 403
    assert client.get("/models/live.tar.gz?token=wrong").status_code == 403
    response = client.get(f"/models/live.tar.gz?token={TOKEN}")
    live_hash = hashlib.sha256(model_bytes("live model")).hexdigest()
    assert response.status_code == 200 and response.data == model_bytes("live model")
    assert response.headers["ETag"].strip('"') == live_hash
    # What Rasa sends back: the ETag it got, as its current fingerprint.
    unchanged = client.get(f"/models/live.tar.gz?token={TOKEN}", headers={"If-None-Match": response.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b""
    _, candidate_id, _ = finished_job_with_candidate(seeded_database, models_dir)
    with seeded_database.session() as session:
        versions.promote(session, candidate_id, "supervisor@sportello.example", models_dir)
    swapped = client.get(f"/models/live.tar.gz?token={TOKEN}", headers={"If-None-Match": response.headers["ETag"]})
    assert swapped.status_code == 200 and swapped.data == model_bytes("candidate model")
    assert swapped.headers["ETag"].strip('"') == hashlib.sha256(model_bytes("candidate model")).hexdigest()


def test_without_a_token_configured_the_model_server_is_off(seeded_database, models_dir):
    app = desk_app_for(seeded_database, models_dir=models_dir)
    assert app.test_client().get("/models/live.tar.gz?token=").status_code == 404
    with_token = desk_app_for(seeded_database, models_dir=models_dir / "missing", model_server_token=TOKEN)
    assert with_token.test_client().get(f"/models/live.tar.gz?token={TOKEN}").status_code == 404
