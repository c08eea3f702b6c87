"""Erasure reaches the running assistant: the real Rasa server (in-memory tracker store, as
`make run` starts it, with its HTTP API enabled by a token) forgets the person's conversation
when an administrator erases their data in the desk."""
from __future__ import annotations

import secrets

import httpx
import pytest
from sqlalchemy import func, select

from desk.config import PrivacySettings
from desk.db import Database
from desk.models import AssistantTurn, PrivacyRequest, Role
from desk.web import create_app
from tests.support.databases import prepare_database, throwaway_postgres_database
from tests.support.desk import desk_settings, log_in, make_user, post_form
from tests.support.stack import running_assistant

pytestmark = pytest.mark.e2e

CHAT_ID = "918273645"
SENDER = f"telegram-{CHAT_ID}"
QUESTION = "quanti permessi ho per la terapia settimanale di mio figlio zorbatico"


def user_texts(assistant_url: str, token: str):
    response = httpx.get(f"{assistant_url}/conversations/{SENDER}/tracker", params={"token": token}, timeout=30)
    response.raise_for_status()
    return [event.get("text") for event in response.json()["events"] if event.get("event") == "user"]


def test_erasure_resets_the_conversation_in_the_running_assistant():
    token = secrets.token_urlsafe(16)
    with throwaway_postgres_database("dialoga_privacy_e2e") as url:
        prepare_database(url)
        with running_assistant(url, name="privacy", rasa_args=["--enable-api", "--auth-token", token]) as assistant:
            assistant.say(SENDER, QUESTION, metadata={"channel": "telegram", "reply_address": CHAT_ID})
            assert QUESTION in user_texts(assistant.url, token)
            assert httpx.get(f"{assistant.url}/conversations/{SENDER}/tracker", timeout=30).status_code == 401

            database = Database(url)
            try:
                settings = desk_settings(url, rasa_url=assistant.url, privacy=PrivacySettings(rasa_api_token=token))
                app = create_app(settings, database=database)
                app.testing = True
                client = app.test_client()
                assert log_in(client, make_user(database, Role.ADMIN)).status_code == 302
                with database.session() as session:
                    assert session.scalar(select(func.count()).select_from(AssistantTurn)
                                          .where(AssistantTurn.conversation_id == SENDER)) >= 1
                response = post_form(client, "/dati-personali/persona/cancella",
                                     {"kind": "telegram", "value": CHAT_ID, "confirm": "CANCELLA"},
                                     page="/dati-personali/persona")
                assert response.status_code == 302
                assert user_texts(assistant.url, token) == []
                with database.session() as session:
                    assert session.scalar(select(func.count()).select_from(AssistantTurn)) == 0
                    audit = session.scalars(select(PrivacyRequest)).one()
                    assert audit.counts["assistant_conversations_reset"] == 1 and audit.note == ""
            finally:
                database.dispose()
