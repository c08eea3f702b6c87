"""Dated facts: a passed deadline or last year's amount is never said as current.

Pure rules with an injected `today`, then every seeded entry walked at the day after
each of its facts' periods, then the answer as the assistant sends it (both databases)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from actions.knowledge import ActionAnswerTopic
from desk.answer_format import compose_answer
from desk.config import PROJECT_ROOT
from desk.services import dated_facts, knowledge
from desk.services.dated_facts import DatedFact, FactState
from desk.services.seeding import read_seed_files
from tests.test_actions import action_database, run, tracker  # noqa: F401 (fixture)

SEEDS = read_seed_files(PROJECT_ROOT / "data" / "knowledge")
DEADLINE = DatedFact(
    key="domande_2025", label_it="Domande per il 2025", label_en="2025 requests",
    text_it="Domande entro il 30 aprile 2026.", text_en="Requests by 30 April 2026.",
    valid_from=date(2025, 1, 1), valid_until=date(2026, 4, 30),
)
TEMPLATE = "Intro.\n[[domande_2025]]\nOutro."


def facts_of(seed):
    return [DatedFact.from_dict(fact) for fact in seed["content"]["facts"]]


@pytest.mark.parametrize("today, expected", [
    (date(2026, 4, 29), FactState.CURRENT),  # the day before valid_until
    (date(2026, 4, 30), FactState.CURRENT),  # valid_until itself: the fact still holds all day
    (date(2026, 5, 1), FactState.ENDED),  # the day after
    (date(2024, 12, 31), FactState.UPCOMING),  # the day before valid_from
    (date(2025, 1, 1), FactState.CURRENT),
])
def test_a_fact_holds_from_its_first_to_its_last_day_inclusive(today, expected):
    assert dated_facts.state(DEADLINE, today) is expected


def test_a_current_fact_is_said_as_it_is():
    rendered = dated_facts.render(TEMPLATE, [DEADLINE], date(2026, 4, 30), "it")
    assert rendered.text == "Intro.\nDomande entro il 30 aprile 2026.\nOutro."
    assert rendered.ended == ()


def test_an_ended_fact_is_said_as_ended_and_being_updated_in_both_languages():
    italian = dated_facts.render(TEMPLATE, [DEADLINE], date(2026, 5, 1), "it")
    english = dated_facts.render(TEMPLATE, [DEADLINE], date(2026, 5, 1), "en")
    assert "Domande entro" not in italian.text and "Requests by" not in english.text
    assert "Domande per il 2025: il periodo si è chiuso il 30 aprile 2026" in italian.text
    assert "2025 requests: this period ended on 30 April 2026" in english.text
    assert italian.ended == english.ended == ("domande_2025",)


def test_an_upcoming_or_unknown_fact_leaves_no_empty_line():
    rendered = dated_facts.render(TEMPLATE + "\n• [[nobody]]", [DEADLINE], date(2024, 6, 1), "it")
    assert rendered.text == "Intro.\nOutro."


def test_the_unconfirmed_note_follows_a_marked_statement_only():
    assert dated_facts.render("Vale così (*).", [], date(2026, 1, 1), "it").unconfirmed
    assert not dated_facts.render("Vale così.", [], date(2026, 1, 1), "it").unconfirmed


def test_the_desk_lists_facts_ending_soon_ended_and_depending_on_the_budget_law():
    law = DatedFact("soglia", "Soglia", "Threshold", "1.000 euro", "1,000 euros", valid_until=date(2026, 12, 31),
                    budget_law=True)
    facts = {"a": [DEADLINE], "b": [law]}
    # within 30 days of 31 December, counted from 1 December: the threshold is ending, the deadline ended
    assert [row.fact.key for row in dated_facts.expiring(facts, date(2026, 12, 1), 30)] == ["soglia"]
    assert [row.days_left for row in dated_facts.expiring(facts, date(2026, 12, 1), 30)] == [30]
    assert dated_facts.expiring(facts, date(2026, 11, 30), 30) == []
    assert [row.fact.key for row in dated_facts.ended(facts, date(2026, 12, 1))] == ["domande_2025"]
    assert [row.fact.key for row in dated_facts.budget_law_review(facts, date(2026, 12, 1))] == ["soglia"]
    assert dated_facts.budget_law_review(facts, date(2027, 1, 1)) == []  # reviewed for the year that ended


def test_fact_validation_names_the_problem():
    bad = DatedFact("Bad Key", "", "", "", "")
    backwards = DatedFact("x", "l", "l", "t", "t", valid_from=date(2026, 2, 1), valid_until=date(2026, 1, 1))
    errors = dated_facts.validate_facts([bad, backwards], ["[[x]] [[missing]]"])
    assert set(errors) == {"Bad Key", "x", "facts"} and "missing" in errors["facts"]


# ---- every seeded entry -------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS, ids=[seed["topic"] for seed in SEEDS])
def test_every_marker_has_its_fact_and_every_fact_is_said_in_both_languages(seed):
    content = seed["content"]
    keys = {fact.key for fact in facts_of(seed)}
    assert dated_facts.validate_facts(facts_of(seed), [content["answer_it"], content["answer_en"]]) == {}
    assert set(dated_facts.markers_in(content["answer_it"])) == keys == set(dated_facts.markers_in(content["answer_en"]))


DATED_FACT_TIMES = [(seed, fact) for seed in SEEDS for fact in facts_of(seed) if fact.valid_until]


@pytest.mark.parametrize("seed, fact", DATED_FACT_TIMES,
                         ids=[f"{seed['topic']}-{fact.key}" for seed, fact in DATED_FACT_TIMES])
def test_the_day_after_a_facts_period_the_answer_no_longer_states_it(seed, fact):
    content, facts = seed["content"], facts_of(seed)
    day_after = fact.valid_until + timedelta(days=1)
    for language in ("it", "en"):
        answer = knowledge.render_answer(seed["topic"], language, "t", content[f"answer_{language}"], facts, day_after,
                                         content["source"], content["source_url"], content["verified_on"], 1)
        assert fact.text(language) not in answer.text
        assert dated_facts.ended_text(fact, language) in answer.text
        assert fact.key in answer.updating
        reply = compose_answer(answer)
        assert ("operatore" if language == "it" else "operator") in reply.split(answer.text)[-1]
        # ...and on its last day it is still said as it is
        on_last_day = dated_facts.render(content[f"answer_{language}"], facts, fact.valid_until, language)
        assert fact.text(language) in on_last_day.text


# A year from 2024 on, in the fixed text of an answer (outside facts), is allowed only as the
# start of a rule that still holds ("dal 1° gennaio 2026", "since 2025") or as something
# said to be over ("finite il 31 marzo 2024", "closed on 30 April 2026").
_STILL_TRUE_BEFORE_YEAR = re.compile(
    r"(\bdal\b|\bdall'|\bfrom\b|\bsince\b|\bfinit\w*\b|\bchius\w*\b|\bended\b|\bclosed\b)[^.;:]{0,25}$", re.IGNORECASE)


@pytest.mark.parametrize("seed", SEEDS, ids=[seed["topic"] for seed in SEEDS])
def test_time_bound_statements_live_in_dated_facts(seed):
    for language in ("it", "en"):
        text = dated_facts.MARKER.sub("", seed["content"][f"answer_{language}"])
        for match in re.finditer(r"(?<![/\d-])(20[2-9]\d)(?!\d)", text):
            if int(match.group(1)) < 2024:
                continue
            before = text[max(0, match.start() - 40):match.start()]
            assert _STILL_TRUE_BEFORE_YEAR.search(before), (
                f"{seed['topic']} ({language}): '{text[max(0, match.start() - 60):match.end() + 20]}' "
                "states a year outside a dated fact")


@pytest.mark.parametrize("seed", SEEDS, ids=[seed["topic"] for seed in SEEDS])
def test_far_in_the_future_no_fact_with_a_period_is_said_as_current(seed):
    facts = facts_of(seed)
    later = max((fact.valid_until for fact in facts if fact.valid_until), default=date(2026, 1, 1)) + timedelta(days=1)
    for language in ("it", "en"):
        rendered = dated_facts.render(seed["content"][f"answer_{language}"], facts, later, language)
        for fact in facts:
            if fact.valid_until:
                assert fact.text(language) not in rendered.text


# ---- through the database and the action ---------------------------------------------

def test_the_answer_read_from_the_database_depends_on_the_injected_day(seeded_database):
    with seeded_database.session() as session:
        before = knowledge.answer_for(session, "elba_richiesta", "it", today=date(2026, 4, 30))
        after = knowledge.answer_for(session, "elba_richiesta", "it", today=date(2026, 5, 1))
    assert "entro i 4 mesi successivi" in before.text and before.updating == ()
    assert "entro i 4 mesi successivi" not in after.text and after.updating == ("termine_regole_2025",)


def test_the_assistant_says_an_ended_fact_is_being_updated_and_offers_a_person(action_database):
    # Real clock at the action's edge: today (December 2026 or later) the ELBA 2025 requests have closed.
    messages, _ = run(ActionAnswerTopic(), tracker("provvidenze elba", "elba_prestazioni_lavoratori",
                                                   slots={"language": "it"}))
    message = messages[0]
    assert message["custom"]["updating"] == ["provvidenze_lavoratori_2025"]
    assert "il periodo si è chiuso il 30 aprile 2026" in message["text"]
    assert "650 euro" not in message["text"]
    assert "/request_human" in [button["payload"] for button in message["buttons"]]
