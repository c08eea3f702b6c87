"""The clarification decision (desk/services/understanding.py): a pure function of an
intent ranking and the thresholds, tested without a database or Rasa."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.services.understanding import Answer, Clarify, Offer, Thresholds, decide, first_turn, needs_fallback, settled

TOPICS = {"congedo_parentale", "congedo_paternita", "congedo_maternita", "sanarti", "fsba_sostegno_reddito",
          "mutue_integrative", "accompagnamento_artigiani"}


def ranking(*pairs):
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def test_two_close_topics_are_offered_most_likely_first():
    decision = decide(ranking(("nlu_fallback", 0.35), ("congedo_parentale", 0.45), ("congedo_paternita", 0.54)), TOPICS)
    assert decision == Clarify(("congedo_paternita", "congedo_parentale"))


def test_at_most_three_topics_are_offered_even_when_more_qualify():
    spread = ranking(("sanarti", 0.2), ("fsba_sostegno_reddito", 0.19), ("mutue_integrative", 0.18),
                     ("accompagnamento_artigiani", 0.17), ("congedo_parentale", 0.16))
    assert decide(spread, TOPICS, Thresholds(candidate_min_confidence=0.1)) == Clarify(
        ("sanarti", "fsba_sostegno_reddito", "mutue_integrative"))
    # A configuration above the contract's limit is capped at 3; below it is obeyed.
    assert len(decide(spread, TOPICS, Thresholds(candidate_min_confidence=0.1, max_candidates=5)).topics) == 3
    assert decide(spread, TOPICS, Thresholds(candidate_min_confidence=0.1, min_combined_confidence=0.35, max_candidates=2)).topics == (
        "sanarti", "fsba_sostegno_reddito")


def test_out_of_scope_ranked_first_gets_the_offer_of_a_person():
    assert decide(ranking(("out_of_scope", 0.3), ("congedo_parentale", 0.28), ("congedo_paternita", 0.2)), TOPICS) == Offer()


def test_a_non_topic_intent_ranked_first_gets_the_offer():
    assert decide(ranking(("greet", 0.3), ("sanarti", 0.25), ("fsba_sostegno_reddito", 0.2)), TOPICS) == Offer()


def test_weak_candidates_get_the_offer_instead_of_a_guess():
    # Each topic barely above the candidate minimum: together too little to be worth asking.
    weak = ranking(("congedo_parentale", 0.12), ("sanarti", 0.11), ("out_of_scope", 0.03), ("greet", 0.09))
    assert decide(weak, TOPICS, Thresholds(candidate_min_confidence=0.1, min_combined_confidence=0.45)) == Offer()
    # The same ranking is clarified when the operators lower the combined minimum.
    assert decide(weak, TOPICS, Thresholds(candidate_min_confidence=0.1, min_combined_confidence=0.2)) == Clarify(
        ("congedo_parentale", "sanarti"))


def test_an_unsure_message_close_to_out_of_scope_gets_the_offer_not_a_clarification():
    # "are figurative contributions enough to retire early?": shares words with a topic
    near_out_of_scope = ranking(("congedo_straordinario", 0.26), ("out_of_scope", 0.2), ("sanarti", 0.1))
    assert decide(near_out_of_scope, TOPICS, Thresholds(out_of_scope_ratio=0.4)) == Offer()
    # the same topic with out of scope far behind is asked about
    far = ranking(("congedo_parentale", 0.3), ("congedo_paternita", 0.2), ("out_of_scope", 0.1))
    assert decide(far, TOPICS, Thresholds(out_of_scope_ratio=0.4)) == Clarify(("congedo_parentale", "congedo_paternita"))


def test_topics_below_the_candidate_minimum_are_not_offered():
    decision = decide(ranking(("sanarti", 0.5), ("fsba_sostegno_reddito", 0.3), ("mutue_integrative", 0.04)), TOPICS,
                      Thresholds(candidate_min_confidence=0.05))
    assert decision == Clarify(("sanarti", "fsba_sostegno_reddito"))


def test_one_plausible_topic_is_asked_about_not_answered():
    assert decide(ranking(("congedo_parentale", 0.3), ("out_of_scope", 0.05)), TOPICS) == Clarify(("congedo_parentale",))


def test_only_a_confident_topic_with_a_clear_lead_is_answered():
    assert decide(ranking(("congedo_parentale", 0.9), ("congedo_paternita", 0.05)), TOPICS) == Answer("congedo_parentale")
    # Confident but close to the next one: asked, not answered.
    assert isinstance(decide(ranking(("congedo_parentale", 0.62), ("congedo_paternita", 0.38)), TOPICS), Clarify)


def test_an_empty_ranking_gets_the_offer():
    assert decide([], TOPICS) == Offer()
    assert decide(ranking(("nlu_fallback", 1.0)), TOPICS) == Offer()


def test_thresholds_come_from_the_environment_when_set():
    thresholds = Thresholds.from_env({
        "DIALOGA_CLARIFY_CANDIDATE_MIN_CONFIDENCE": "0.2", "DIALOGA_CLARIFY_MAX_CANDIDATES": "2",
        "DIALOGA_CLARIFY_MIN_COMBINED_CONFIDENCE": "", "UNRELATED": "1",
    })
    assert thresholds.candidate_min_confidence == 0.2 and thresholds.max_candidates == 2
    assert thresholds.min_combined_confidence == Thresholds().min_combined_confidence
    with pytest.raises(ValueError):
        Thresholds.from_env({"DIALOGA_CLARIFY_MAX_CANDIDATES": "three"})


@given(st.lists(st.tuples(st.sampled_from(sorted(TOPICS | {"out_of_scope", "greet", "nlu_fallback"})),
                          st.floats(0, 1)), max_size=10))
def test_a_clarification_never_offers_more_than_three_topics_nor_a_non_topic(pairs):
    decision = decide(ranking(*pairs), TOPICS)
    if isinstance(decision, Clarify):
        assert 1 <= len(decision.topics) <= 3 and set(decision.topics) <= TOPICS
        assert len(set(decision.topics)) == len(decision.topics)
    if isinstance(decision, Answer):
        assert decision.topic in TOPICS



def test_an_unsure_guided_check_competes_with_the_topics_instead_of_hijacking_the_question():
    # check ranked first but close to its topic: the topics are offered, not a person
    unsure = ranking(("check_congedo_parentale", 0.4), ("congedo_parentale", 0.35), ("congedo_paternita", 0.15))
    assert decide(unsure, TOPICS) == Clarify(("congedo_parentale", "congedo_paternita"))
    assert needs_fallback(unsure, TOPICS, Thresholds())
    # a confident check is left to its rule, like any other intent
    sure = ranking(("check_congedo_parentale", 0.9), ("congedo_parentale", 0.05))
    assert not needs_fallback(sure, TOPICS, Thresholds())
    assert first_turn(sure, TOPICS, Thresholds()) == "check_congedo_parentale"
    # the ticket status check is not a guided check: out of the topics' way
    assert decide(ranking(("check_ticket_status", 0.4), ("sanarti", 0.35)), TOPICS) == Offer()


def test_the_first_turn_answers_only_what_passes_the_answer_rule():
    strict = Thresholds(answer_min_confidence=0.7, answer_min_margin=0.4)
    # Rasa's FallbackClassifier alone (0.35 / 0.1) would answer this one
    middling = ranking(("congedo_parentale", 0.62), ("congedo_paternita", 0.3))
    assert needs_fallback(middling, TOPICS, strict)
    assert first_turn(middling, TOPICS, strict) == Clarify(("congedo_parentale", "congedo_paternita"))
    assert first_turn(ranking(("congedo_parentale", 0.8), ("congedo_paternita", 0.1)), TOPICS, strict) == Answer(
        "congedo_parentale")
    # non-topic intents keep the FallbackClassifier's thresholds
    assert not needs_fallback(ranking(("greet", 0.5), ("sanarti", 0.2)), TOPICS, strict)
    assert first_turn(ranking(("greet", 0.5), ("sanarti", 0.2)), TOPICS, strict) == "greet"
    assert first_turn(ranking(("out_of_scope", 0.5), ("sanarti", 0.2)), TOPICS, strict) == Offer()
    assert first_turn(ranking(("out_of_scope", 0.3), ("sanarti", 0.28)), TOPICS, strict) == Offer()
    assert first_turn([], TOPICS, strict) == Offer()


def test_a_topic_and_its_own_check_are_one_subject_and_the_topic_wins_unless_the_check_clearly_leads():
    thresholds = Thresholds()
    topics = {"bonus_asilo_nido", "nidi_gratis_lombardia", "fringe_benefit_soglie"}

    def ranking(*pairs):
        return [{"name": name, "confidence": confidence} for name, confidence in pairs]

    # "what is the nursery bonus": between explaining and working it out, explain (the answer offers the check).
    close = settled(ranking(("check_bonus_asilo_nido", 0.50), ("bonus_asilo_nido", 0.45), ("out_of_scope", 0.02)),
                    topics, thresholds)
    assert close[0] == {"name": "bonus_asilo_nido", "confidence": pytest.approx(0.95)}
    assert [item["name"] for item in close] == ["bonus_asilo_nido", "out_of_scope"]
    assert first_turn(close, topics, thresholds) == Answer("bonus_asilo_nido")
    # The topic first and its check second: the topic, sure of itself now.
    assert first_turn(ranking(("bonus_asilo_nido", 0.60), ("check_bonus_asilo_nido", 0.32), ("out_of_scope", 0.01)),
                      topics, thresholds) == Answer("bonus_asilo_nido")
    # A check that clearly leads its topic starts (fringe_benefit calculates fringe_benefit_soglie).
    lead = settled(ranking(("check_fringe_benefit", 0.70), ("fringe_benefit_soglie", 0.2)), topics, thresholds)
    assert lead[0]["name"] == "check_fringe_benefit"
    # Two different subjects are left alone.
    other = ranking(("check_bonus_asilo_nido", 0.5), ("nidi_gratis_lombardia", 0.45))
    assert settled(other, topics, thresholds) == other
