"""The guided checks' rules against the hand-worked table tests/checks_cases.yml, with
the parameters of the seed file: no database, no Rasa."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from desk.config import PROJECT_ROOT
from desk.services import checks
from desk.services.checks import InvalidAnswer, texts
from desk.services.checks.parameters import SEED_FILE, parameters_from_seed

TABLE = yaml.safe_load((Path(__file__).parent / "checks_cases.yml").read_text(encoding="utf-8"))
PARAMETERS = parameters_from_seed(PROJECT_ROOT / "data" / "knowledge" / SEED_FILE)


def normalised(answers):
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in answers.items()}


def test_the_table_covers_every_check_enough():
    counts = {check: sum(1 for case in TABLE["cases"] if case["check"] == check) for check in checks.CHECKS}
    assert counts["congedo_parentale"] >= 15
    assert all(count >= 6 for count in counts.values()), counts


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda case: case["id"])
def test_hand_worked_case(case):
    answers = normalised(case["answers"])
    result = checks.run_check(case["check"], answers, PARAMETERS, case["today"])
    if "outdated" in case:
        assert result.outdated == case["outdated"]
        return
    assert result.outdated is None
    assert {name: result.figures.get(name) for name in case["expect"]} == case["expect"]
    assert result.to_confirm == case.get("to_confirm", False)
    # Every figure computed from a rule cites that rule's source and date.
    assert result.sources() and all(item["source"] and item["verified_on"] for item in result.sources())
    assert checks.next_field(case["check"], answers, PARAMETERS, case["today"]) is None
    if "asked" in case:
        assert checks.needed_fields(case["check"], answers, PARAMETERS, case["today"]) == case["asked"]
    for language in ("it", "en"):
        text = texts.render_result(result, language)
        assert "{" not in text and "None" not in text


@pytest.mark.parametrize("item", TABLE["invalid"], ids=lambda item: f"{item['check']}-{item['field']}-{item['text']}")
def test_answers_are_read_or_refused(item):
    answers = normalised(item["answers"])
    if "error" in item:
        with pytest.raises(InvalidAnswer) as refused:
            checks.read_answer(item["check"], item["field"], item["text"], answers, PARAMETERS, item["today"])
        assert refused.value.key == item["error"]
        for language in ("it", "en"):
            assert "{" not in texts.reask(refused.value.key, language, refused.value.values)
    else:
        value = checks.read_answer(item["check"], item["field"], item["text"], answers, PARAMETERS, item["today"])
        assert value == item["valid"] or str(value) == str(item["valid"])


def test_every_question_and_rule_text_exists_in_both_languages():
    for check, module in checks.CHECKS.items():
        for field in module.FIELDS:
            values = checks.question_values(check, field, PARAMETERS, date(2026, 12, 1))
            for language in ("it", "en"):
                question = texts.question(check, field, language, values)
                assert question and "{" not in question
    assert "2,5 volte" in texts.question("congedo_parentale", "income_below_limit", "it", checks.question_values(
        "congedo_parentale", "income_below_limit", PARAMETERS, date(2026, 12, 1)))
    for table in (texts.STEPS, texts.LIMITS, texts.REASKS, texts.QUESTIONS, texts.GENERAL, texts.TITLES):
        for key, variants in table.items():
            assert set(variants) == {"it", "en"}, key


def test_a_parameter_outside_its_period_is_never_used():
    later = date(2030, 1, 1)
    result = checks.run_check("fringe_benefit", {"dependent_children": True, "given": "0", "planned": "0"},
                              PARAMETERS, later)
    assert result.outdated == "fringe_benefit.ceiling_with_children" and result.figures == {}
