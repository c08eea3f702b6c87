"""Through the real assistant (REST channel, action server, PostgreSQL): an ended ELBA
deadline is said as ended, "dove mi rivolgo a Rho?" lists the points for Rho, and
"Avvisami se cambia" then /avvisi subscribe and list."""
import pytest

from desk.config import PROJECT_ROOT
from desk.services.directory import seed_directory
from tests.support.stack import custom_of, text_of

pytestmark = pytest.mark.e2e


def test_dated_facts_area_search_and_notices_through_the_assistant(stack):
    assistant, database, _ = stack
    with database.session() as session:
        seed_directory(session, PROJECT_ROOT / "data" / "directory" / "service_points.yml")
    replies = assistant.say("kst-1", "quali sono le provvidenze ELBA per i lavoratori dipendenti?")
    assert custom_of(replies)["topic"] == "elba_prestazioni_lavoratori"
    assert custom_of(replies)["updating"] == ["provvidenze_lavoratori_2025"]
    assert "il periodo si è chiuso il 30 aprile 2026" in text_of(replies)
    payloads = [button["payload"] for reply in replies for button in reply.get("buttons", [])]
    assert "/subscribe_updates" in payloads and "/request_human" in payloads
    replies = assistant.say("kst-1", "/subscribe_updates")
    assert custom_of(replies)["subscription"] == {"topic": "elba_prestazioni_lavoratori", "status": "active"}
    replies = assistant.say("kst-1", "/avvisi")
    assert custom_of(replies)["subscriptions"] == ["elba_prestazioni_lavoratori"]
    replies = assistant.say("kst-1", "dove mi rivolgo a Rho?")
    assert custom_of(replies)["service_points"]["comune"] == "Rho"
    replies = assistant.say("kst-2", "sportello vicino a 20017")
    assert custom_of(replies)["service_points"]["comune"] == "Rho"
