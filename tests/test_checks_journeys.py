"""The five guided checks through the REST channel, end to end (../shared/contract.md):
each question carries `custom: {check, asks}`, a wrong answer gets a clear re-ask in the
user's language, the result carries the figures and the sources of the rules used, and
the result can go to an operator as a pre-filled ticket. The expected figures are the
rules' own (desk.services.checks) for today's date, computed with the seeded parameters."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from desk.config import PROJECT_ROOT
from desk.models import CheckEvent, CheckParameter
from desk.services import checks
from desk.services.checks.parameters import SEED_FILE, parameters_from_seed
from tests.support.conversation import new_sender
from tests.support.stack import custom_of, text_of

pytestmark = pytest.mark.e2e
PARAMETERS = parameters_from_seed(PROJECT_ROOT / "data" / "knowledge" / SEED_FILE)


def today():
    return datetime.now(ZoneInfo("Europe/Rome")).date()


def asks(replies):
    custom = custom_of(replies)
    return custom.get("check"), custom.get("asks")


def expected(check, answers):
    return checks.run_check(check, answers, PARAMETERS, today())


def assert_result(replies, check, answers):
    """The result the rules give for these answers today (or the "being updated" offer)."""
    custom = custom_of(replies)
    result = expected(check, answers)
    assert custom["check"] == check
    if result.outdated:
        assert custom["escalation"] == "offer" and "aggiornamento" in text_of(replies) + "updated"
        return result
    assert custom["result"] == result.figures
    assert custom["sources"] == result.sources() and custom["sources"]
    assert all(item["topic"] and item["source"] and item["verified_on"] for item in custom["sources"])
    return result


def test_parental_leave_in_italian_with_wrong_answers_then_an_operator(stack):
    assistant, database, _ = stack
    sender = new_sender()
    child = today() - timedelta(days=600)
    maternity_end = child + timedelta(days=92)
    started = assistant.say(sender, "quanti mesi di congedo parentale mi restano?")
    assert asks(started) == ("congedo_parentale", "child_date")
    # A typed question gets the topic's answer with its source first, without a second "work out
    # your case" button (the check is starting), then the check's first question.
    custom = custom_of(started)
    assert custom["topic"] == "congedo_parentale" and custom["source"] in text_of(started)
    payloads = [button["payload"] for message in started for button in message.get("buttons", [])]
    assert "/feedback_helpful" in payloads and "/check_congedo_parentale" not in payloads
    assert text_of(started).index(custom["source"]) < text_of(started).rindex("?")  # the answer, then the question

    future = assistant.say(sender, (today() + timedelta(days=30)).strftime("%d/%m/%Y"))
    assert "nel futuro" in text_of(future) and asks(future) == ("congedo_parentale", "child_date")
    assert asks(assistant.say(sender, child.strftime("%d/%m/%Y"))) == ("congedo_parentale", "maternity_end")
    assert asks(assistant.say(sender, maternity_end.strftime("%d/%m/%Y"))) == ("congedo_parentale", "single_parent")
    assert asks(assistant.say(sender, "/deny")) == ("congedo_parentale", "months_used_mother")
    too_many = assistant.say(sender, "13")
    assert "il massimo è 6 mesi" in text_of(too_many) and asks(too_many) == ("congedo_parentale", "months_used_mother")
    assert asks(assistant.say(sender, "2")) == ("congedo_parentale", "months_used_father")
    assert asks(assistant.say(sender, "0")) == ("congedo_parentale", "months_used_high")
    assert asks(assistant.say(sender, "2")) == ("congedo_parentale", "income_below_limit")
    replies = assistant.say(sender, "Non lo so")
    answers = {"child_date": child.isoformat(), "maternity_end": maternity_end.isoformat(), "single_parent": False,
               "months_used_mother": "2", "months_used_father": "0", "months_used_high": "2",
               "income_below_limit": "unknown"}
    result = assert_result(replies, "congedo_parentale", answers)
    if not result.outdated:
        assert result.figures["months_left_mother"] == 4 and result.figures["months_at_low_rate"] == 6
        assert "Come l'ho calcolato" in text_of(replies) and "verificato il" in text_of(replies)
        assert "CCNL" in text_of(replies)

    # The result goes to an operator as the ticket's question.
    intake = assistant.say(sender, "/affirm")
    assert custom_of(intake)["escalation"] == "intake"
    for answer in ("Lavoratore/lavoratrice", "Anna Verdi", "anna.verdi@example.org"):
        replies = assistant.say(sender, answer)
    assert custom_of(replies)["asks"] == "question"
    assert "Congedo parentale" in text_of(replies)
    assert custom_of(assistant.say(sender, "annulla")).get("intake") == "cancelled"
    with database.session() as session:
        events = session.scalars(select(CheckEvent.event).where(CheckEvent.conversation_id == sender)).all()
    assert sorted(events) == sorted(["started", "completed" if not result.outdated else "outdated"])


def test_paternity_leave_in_english_with_a_wrong_number(stack):
    assistant, _, _ = stack
    sender = new_sender()
    birth = today() - timedelta(days=40)
    assert asks(assistant.say(sender, "how many paternity days can I still take?")) == ("congedo_paternita", "born")
    assert asks(assistant.say(sender, "/affirm")) == ("congedo_paternita", "birth_date")
    assert asks(assistant.say(sender, birth.strftime("%d/%m/%Y"))) == ("congedo_paternita", "multiple_birth")
    assert asks(assistant.say(sender, "no")) == ("congedo_paternita", "days_used")
    wrong = assistant.say(sender, "13")
    assert "the most is 10 days" in text_of(wrong) and asks(wrong) == ("congedo_paternita", "days_used")
    replies = assistant.say(sender, "4")
    assert_result(replies, "congedo_paternita", {"born": True, "birth_date": birth.isoformat(),
                                                 "multiple_birth": False, "days_used": "4"})
    assert "How I worked it out" in text_of(replies) or "updated" in text_of(replies)
    assert custom_of(assistant.say(sender, "/deny")) == {}


def test_l104_permits_in_italian_with_a_non_number(stack):
    assistant, _, _ = stack
    sender = new_sender()
    assert asks(assistant.say(sender, "lavoro 36 ore su 6 giorni, quante ore di permesso 104 mi spettano al mese?")) \
        == ("permessi_104", "weekly_hours")
    wrong = assistant.say(sender, "tante")
    assert "Mi serve un numero" in text_of(wrong) and asks(wrong) == ("permessi_104", "weekly_hours")
    assert asks(assistant.say(sender, "36")) == ("permessi_104", "working_days")
    assert asks(assistant.say(sender, "6")) == ("permessi_104", "days_used")
    replies = assistant.say(sender, "1")
    result = assert_result(replies, "permessi_104", {"weekly_hours": "36", "working_days": "6", "days_used": "1"})
    if not result.outdated:
        assert result.figures["hours_per_month"] == 18 and "18 ore al mese" in text_of(replies)


def test_a_question_about_a_topic_in_the_middle_of_a_check_ends_it_and_is_answered(stack):
    """A user who moves on is answered, not asked the same field again and again."""
    assistant, database, _ = stack
    sender = new_sender()
    assert asks(assistant.say(sender, "lavoro 36 ore su 6 giorni, quante ore di permesso 104 mi spettano al mese?")) \
        == ("permessi_104", "weekly_hours")
    replies = assistant.say(sender, "cos'è lo smart working e come funziona l'accordo individuale?")
    custom = custom_of(replies)
    assert custom.get("topic", "").startswith("smart_working") and custom.get("cancelled") is True
    assert "Lascio da parte il calcolo" in text_of(replies) and "asks" not in custom
    # The check is over: a number is no longer read as its answer.
    assert "asks" not in custom_of(assistant.say(sender, "36"))
    with database.session() as session:
        events = session.scalars(select(CheckEvent.event).where(CheckEvent.conversation_id == sender)).all()
    assert sorted(events) == ["cancelled", "started"]


def test_fringe_benefits_in_english_and_cancelling_a_check(stack):
    assistant, _, _ = stack
    sender = new_sender()
    assert asks(assistant.say(sender, "how much can I still give an employee in fringe benefits?")) \
        == ("fringe_benefit", "dependent_children")
    assert asks(assistant.say(sender, "/deny")) == ("fringe_benefit", "given")
    wrong = assistant.say(sender, "a lot")
    assert "amount in euros" in text_of(wrong) and asks(wrong) == ("fringe_benefit", "given")
    assert asks(assistant.say(sender, "800")) == ("fringe_benefit", "planned")
    replies = assistant.say(sender, "300 euros")
    result = assert_result(replies, "fringe_benefit", {"dependent_children": False, "given": "800", "planned": "300"})
    if not result.outdated:
        assert result.figures["over_ceiling"] is True and "WHOLE" in text_of(replies).upper()

    other = new_sender()
    assert asks(assistant.say(other, "how much can I still give an employee in fringe benefits?"))[1] == "dependent_children"
    stopped = assistant.say(other, "cancel")
    assert custom_of(stopped) == {"check": "fringe_benefit", "cancelled": True}
    assert "cancelled" in text_of(stopped).lower()
    # After cancelling, the conversation goes on normally.
    assert custom_of(assistant.say(other, "how does the nursery bonus work?")).get("topic") == "bonus_asilo_nido"


def test_nursery_bonus_from_the_button_under_the_answer(stack):
    assistant, _, _ = stack
    sender = new_sender()
    answer = assistant.say(sender, "come funziona il bonus asilo nido?")
    assert custom_of(answer)["topic"] == "bonus_asilo_nido"
    button = next(button for message in answer for button in message.get("buttons", [])
                  if button["title"] == "Calcola il tuo caso")
    assert button["payload"] == "/check_bonus_asilo_nido"
    started = assistant.say(sender, button["payload"])
    assert asks(started) == ("bonus_asilo_nido", "child_birth_date")
    assert "topic" not in custom_of(started)  # the answer is just above: not repeated
    birth = today() - timedelta(days=300)
    assert asks(assistant.say(sender, birth.strftime("%d/%m/%Y"))) == ("bonus_asilo_nido", "isee")
    replies = assistant.say(sender, "Senza ISEE")
    result = assert_result(replies, "bonus_asilo_nido", {"child_birth_date": birth.isoformat(), "isee": "none"})
    if not result.outdated:
        assert "ricevute" in text_of(replies) and "SPID" in text_of(replies)


def test_the_list_of_checks(stack):
    assistant, _, _ = stack
    replies = assistant.say(new_sender(), "/choose_check")
    assert custom_of(replies)["checks"] == list(checks.CHECKS)
    assert [button["payload"] for message in replies for button in message.get("buttons", [])] == \
        [f"/check_{check}" for check in checks.CHECKS]


def test_a_rule_past_its_period_is_not_used_and_an_operator_is_offered(stack):
    assistant, database, _ = stack
    with database.session() as session:
        row = session.scalars(select(CheckParameter).where(CheckParameter.key == "permessi_104.days_per_month")).one()
        saved_until, row.valid_until = row.valid_until, today() - timedelta(days=1)
    try:
        sender = new_sender()
        assistant.say(sender, "I work 40 hours over 5 days, how many hours of 104 leave do I get a month?")
        assistant.say(sender, "40")
        assistant.say(sender, "5")
        replies = assistant.say(sender, "0")
        custom = custom_of(replies)
        assert custom == {"check": "permessi_104", "outdated": "permessi_104.days_per_month", "escalation": "offer"}
        assert "being updated" in text_of(replies) and "hours a month" not in text_of(replies)
        assert custom_of(assistant.say(sender, "yes"))["escalation"] == "intake"
    finally:
        with database.session() as session:
            session.scalars(select(CheckParameter).where(CheckParameter.key == "permessi_104.days_per_month")) \
                .one().valid_until = saved_until
