"""A promoted model reaches a running assistant without a restart: Rasa pulls it from the desk's
model server (endpoints.model-server.yml), messages keep being answered during the swap, and a
conversation in the middle of the ticket form continues after it (the tracker store is not part
of the model)."""
from __future__ import annotations

import io
import json
import shutil
import tarfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from desk.models import ModelSource, ModelStatus, ModelVersion, Role
from desk.services.models import versions
from tests.support.conversation import new_sender
from tests.support.databases import prepare_database
from tests.support.desk import desk_app_for, log_in, make_user, post_form
from tests.support.stack import MODEL, custom_of, running_assistant
from tests.support.web_server import serving

pytestmark = pytest.mark.e2e

TOKEN = "swap-test-token"


def model_id_of(path: Path) -> str:
    with tarfile.open(path, "r:gz") as archive:
        member = next(m for m in archive.getmembers() if m.name.lstrip("/") == "metadata.json")
        return json.load(archive.extractfile(member))["model_id"]


def copy_with_new_model_id(source: Path, target: Path) -> str:
    """The same trained model under another model_id (what a retraining on the same data gives):
    a different file, so a different ETag, and an id Rasa's /status reports once it is loaded."""
    new_id = uuid.uuid4().hex
    with tarfile.open(source, "r:gz") as original, tarfile.open(target, "w:gz") as copy:
        for member in original.getmembers():
            data = original.extractfile(member) if member.isfile() else None
            if member.name.lstrip("/") == "metadata.json":
                metadata = json.load(data)
                metadata["model_id"] = new_id
                payload = json.dumps(metadata).encode()
                member.size = len(payload)
                data = io.BytesIO(payload)
            copy.addfile(member, data)
    return new_id


def loaded_model_id(assistant) -> str:
    return httpx.get(f"{assistant.url}/status", timeout=10).json()["model_id"]


def test_a_promoted_model_is_loaded_without_restart_and_conversations_go_on(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'swap.db'}"
    prepare_database(database_url)
    models = tmp_path / "models"
    (models / "candidates").mkdir(parents=True)
    shutil.copyfile(MODEL, models / "dialoga.tar.gz")
    old_id = model_id_of(models / "dialoga.tar.gz")
    new_id = copy_with_new_model_id(MODEL, models / "candidates" / "retrained.tar.gz")

    from desk.db import Database

    database = Database(database_url)
    app = desk_app_for(database, models_dir=models, model_server_token=TOKEN)
    with database.session() as session:
        versions.sync_live(session, models)
        candidate = ModelVersion(
            sha256=versions.sha256_of(models / "candidates" / "retrained.tar.gz"),
            file_path="candidates/retrained.tar.gz", source=ModelSource.DESK.value,
            status=ModelStatus.CANDIDATE.value,
        )
        session.add(candidate)
        session.flush()
        candidate_id = candidate.id
    supervisor = app.test_client()
    assert log_in(supervisor, make_user(database, Role.SUPERVISOR)).status_code == 302

    try:
        with serving(app) as desk_url, running_assistant(
            database_url, name="swap", endpoints="endpoints.model-server.yml", enable_api=True,
            extra_env={"DIALOGA_MODEL_SERVER_URL": f"{desk_url}/models/live.tar.gz",
                       "DIALOGA_MODEL_SERVER_TOKEN": TOKEN, "DIALOGA_MODEL_PULL_SECONDS": "2"},
        ) as assistant:
            # The first model came from the desk too (Rasa ignores --model when a model server is set).
            assert loaded_model_id(assistant) == old_id

            sender = new_sender()
            assert custom_of(assistant.say(sender, "vorrei parlare con un operatore")) == {"escalation": "intake", "asks": "role"}
            assert custom_of(assistant.say(sender, "lavoratrice")).get("asks") == "name"

            # Someone else keeps talking to the assistant while the model changes.
            failures, answered, stop = [], [], threading.Event()

            def chatter():
                other = new_sender()
                while not stop.is_set():
                    try:
                        replies = assistant.say(other, "quanti giorni di congedo di paternità spettano?")
                        topic = custom_of(replies).get("topic")
                        (answered if topic == "congedo_paternita" else failures).append(topic)
                    except httpx.HTTPError as error:
                        failures.append(repr(error))
                    time.sleep(0.2)

            thread = threading.Thread(target=chatter, daemon=True)
            thread.start()
            response = post_form(supervisor, f"/modelli/{candidate_id}/attiva", page="/modelli/")
            assert response.status_code == 302
            deadline = time.monotonic() + 90
            while loaded_model_id(assistant) != new_id:
                assert time.monotonic() < deadline, "the assistant did not load the promoted model"
                time.sleep(1)
            time.sleep(1)
            stop.set()
            thread.join(30)
            assert failures == [] and len(answered) >= 3

            # The conversation started before the swap is still in the ticket form.
            assert custom_of(assistant.say(sender, "Lucia Verdi")).get("asks") == "contact"
            assert custom_of(assistant.say(sender, "lucia.verdi@example.org")).get("asks") == "question"
    finally:
        database.dispose()
    with Database(database_url).session() as session:
        live = versions.live_version(session)
        assert (live.id, live.promoted_by) == (candidate_id, "supervisor@sportello.example")
