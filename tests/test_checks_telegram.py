"""A guided check on Telegram, through the real assistant: the /calcola command lists the
checks, choices are buttons, a wrong date gets a clear re-ask, the result shows its working."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from desk.models import CheckEvent
from tests.test_telegram_e2e import TelegramUser, buttons_of, telegram, text_of  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def test_paternity_check_on_telegram_with_buttons_and_a_future_date(telegram):  # noqa: F811
    fake, database = telegram
    user = TelegramUser(fake)
    today = datetime.now(ZoneInfo("Europe/Rome")).date()
    menu = user.writes("/calcola")
    assert buttons_of(menu)["Congedo di paternità: giorni e scadenze"] == "/check_congedo_paternita"
    replies = user.presses(menu, "Congedo di paternità: giorni e scadenze")
    assert "annulla" in text_of(replies) and "Il bambino è già nato?" in text_of(replies)
    assert set(buttons_of(replies)) == {"Sì", "No"}
    replies = user.presses(replies, "Sì")
    assert "In che data è nato" in text_of(replies)
    replies = user.writes((today + timedelta(days=20)).strftime("%d/%m/%Y"))
    assert "nel futuro" in text_of(replies)
    replies = user.writes((today - timedelta(days=30)).strftime("%d/%m/%Y"))
    assert "parto plurimo" in text_of(replies)
    replies = user.presses(replies, "No")
    assert "Quanti giorni" in text_of(replies)
    replies = user.writes("3")
    result = text_of(replies)
    assert ("Come l'ho calcolato" in result and "ne restano 7" in result) or "aggiornamento" in result
    assert "Invia a un operatore" in buttons_of(replies)
    with database.session() as session:
        events = session.scalars(select(CheckEvent).where(CheckEvent.conversation_id == f"telegram-{user.chat}")).all()
    assert {event.event for event in events} >= {"started"} and {event.channel for event in events} == {"telegram"}
