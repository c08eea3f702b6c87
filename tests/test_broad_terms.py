"""Messages that only name a family of topics are clarified among that family
(desk/services/broad_terms.py, data/understanding/broad_terms.yml)."""
from __future__ import annotations

import pytest
import yaml

from desk.services.broad_terms import BroadTerms, spread
from desk.text import plain_words
from desk.services.understanding import Clarify, Thresholds, decide
from desk.topics import load_broad_terms, load_topics

LEAVES = ("congedo_parentale", "congedo_maternita", "congedo_paternita", "congedo_straordinario")
TERMS = BroadTerms.from_document({
    "fillers": ["info", "sui", "su", "the", "about"],
    "families": [{"terms": ["congedo", "congedi", "Congedi e permessi"], "topics": list(LEAVES)},
                 {"terms": ["asilo nido"], "topics": ["bonus_asilo_nido", "nidi_gratis_lombardia"]}],
})


def test_plain_words_drop_case_accents_and_punctuation():
    assert plain_words("Maternità? Sì, grazie!") == ["maternita", "si", "grazie"]


@pytest.mark.parametrize("message", ["congedo", "Congedi?", "info sui congedi", "  CONGEDI e permessi!!"])
def test_a_bare_family_term_with_filler_words_names_the_family(message):
    assert TERMS.family_of(message) == LEAVES


@pytest.mark.parametrize("message", ["congedo parentale", "quanto dura il congedo", "", "?", "info"])
def test_a_message_that_says_more_or_nothing_is_not_a_family_term(message):
    assert TERMS.family_of(message) is None


def test_spread_keeps_the_classifiers_order_within_the_limit_and_decide_clarifies():
    ranking = [{"name": "congedo_straordinario", "confidence": 0.9}, {"name": "congedo_maternita", "confidence": 0.06},
               {"name": "out_of_scope", "confidence": 0.03}, {"name": "congedo_parentale", "confidence": 0.01}]
    spread_ranking = spread(ranking, LEAVES, limit=3)
    assert [item["name"] for item in spread_ranking] == ["congedo_straordinario", "congedo_maternita", "congedo_parentale"]
    assert [item["confidence"] for item in spread_ranking] == pytest.approx([1 / 3] * 3)
    # Without the spread the 0.9 would be answered directly; with it, the user is asked.
    assert decide(spread_ranking, load_topics(), Thresholds()) == Clarify(
        ("congedo_straordinario", "congedo_maternita", "congedo_parentale"))


def test_the_projects_file_loads_and_names_only_catalogue_topics():
    terms = load_broad_terms()
    assert terms.family_of("congedi?") and terms.family_of("Permessi") and terms.family_of("leave")
    topics = set(load_topics())
    assert all(set(family) <= topics and len(family) >= 2 for family in terms.families.values())


def test_a_family_naming_an_unknown_topic_is_refused(tmp_path):
    path = tmp_path / "broad_terms.yml"
    path.write_text(yaml.safe_dump({"families": [{"terms": ["congedo"], "topics": ["congedo_lunare"]}]}))
    with pytest.raises(ValueError, match="congedo_lunare"):
        load_broad_terms(path)
