"""The evaluation gate: a candidate is refused when it is worse than the live model."""
import math

import pytest

from desk.services.models.evaluation import dataset_fingerprint, outcome_of_intent
from desk.services.models.gate import ESCALATION_RECALL_TOLERANCE, WRONG_TOPIC_TOLERANCE, judge

LIVE = {"accuracy": 0.973, "wrong_topic": 0.003, "escalation_recall": 0.956, "escalated_in_scope": 0.024}


def failed(decision):
    return {check.metric for check in decision.failed_checks}


def test_an_equal_or_better_candidate_passes():
    assert judge(dict(LIVE), LIVE).passed
    better = {"accuracy": 0.98, "wrong_topic": 0.0, "escalation_recall": 0.97}
    assert judge(better, LIVE).passed


def test_any_drop_in_accuracy_is_refused():
    decision = judge({**LIVE, "accuracy": LIVE["accuracy"] - 0.001}, LIVE)
    assert not decision.passed and failed(decision) == {"accuracy"}


def test_wrong_topic_may_rise_within_its_tolerance_only():
    assert judge({**LIVE, "wrong_topic": LIVE["wrong_topic"] + WRONG_TOPIC_TOLERANCE}, LIVE).passed
    decision = judge({**LIVE, "wrong_topic": LIVE["wrong_topic"] + WRONG_TOPIC_TOLERANCE + 0.001}, LIVE)
    assert failed(decision) == {"wrong_topic"}


def test_escalation_recall_may_drop_within_its_tolerance_only():
    assert judge({**LIVE, "escalation_recall": LIVE["escalation_recall"] - ESCALATION_RECALL_TOLERANCE}, LIVE).passed
    decision = judge({**LIVE, "escalation_recall": LIVE["escalation_recall"] - ESCALATION_RECALL_TOLERANCE - 0.001}, LIVE)
    assert failed(decision) == {"escalation_recall"}


def test_every_failing_rule_is_reported_with_both_figures():
    decision = judge({"accuracy": 0.5, "wrong_topic": 0.2, "escalation_recall": 0.5}, LIVE)
    assert failed(decision) == {"accuracy", "wrong_topic", "escalation_recall"}
    accuracy = next(check for check in decision.checks if check.metric == "accuracy")
    assert (accuracy.candidate, accuracy.live) == (0.5, LIVE["accuracy"])
    assert decision.as_dict()["passed"] is False and len(decision.as_dict()["checks"]) == 3


def test_without_a_live_model_the_candidate_passes_and_missing_figures_fail():
    assert judge(LIVE, None).passed
    assert failed(judge({**LIVE, "escalation_recall": math.nan}, LIVE)) == {"escalation_recall"}
    assert judge({**LIVE, "escalation_recall": None}, {**LIVE, "escalation_recall": None}).passed


@pytest.mark.parametrize("intent, expected", [
    ("congedo_paternita", {"kind": "answer", "topic": "congedo_paternita"}),
    ("nlu_fallback", {"kind": "escalation", "topic": ""}),
    ("out_of_scope", {"kind": "escalation", "topic": ""}),
    ("greet", {"kind": "escalation", "topic": ""}),
    (None, {"kind": "escalation", "topic": ""}),
])
def test_an_intent_that_is_a_topic_counts_as_an_answer_anything_else_as_escalation(intent, expected):
    assert outcome_of_intent(intent, {"congedo_paternita", "smart_working"}) == expected


def test_figures_are_tied_to_the_cases_they_were_measured_on():
    cases = [{"text": "a", "lang": "it", "expect": "x"}]
    assert dataset_fingerprint(cases) == dataset_fingerprint([dict(cases[0], file="f.yml")])
    assert dataset_fingerprint(cases) != dataset_fingerprint([{**cases[0], "expect": "y"}])
