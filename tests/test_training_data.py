"""The topic contract holds across the catalogue, the training data, the rules
and the knowledge-base seed."""
from __future__ import annotations

from collections import Counter, defaultdict

import pytest
import yaml

from desk.config import PROJECT_ROOT
from desk.services.seeding import read_seed_files
from desk.topics import TOPICS_FILE, topic_ids

SHARED_TOPICS = PROJECT_ROOT.parent / "shared" / "topics.yml"
NLU = PROJECT_ROOT / "data" / "nlu"


def examples_by_intent(language: str):
    found = defaultdict(list)
    for path in sorted((NLU / language).glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                found[block["intent"]] += [line[2:].strip() for line in block["examples"].splitlines() if line.startswith("- ")]
    return found


@pytest.mark.skipif(not SHARED_TOPICS.exists(), reason="../shared is not beside this checkout")
def test_the_topic_catalogue_is_the_shared_contract():
    ours = yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8"))
    shared = yaml.safe_load(SHARED_TOPICS.read_text(encoding="utf-8"))
    assert ours == shared


@pytest.mark.parametrize("language,minimum", [("it", 25), ("en", 8)])
def test_every_topic_has_enough_training_examples(language, minimum):
    examples = examples_by_intent(language)
    short = {topic: len(examples.get(topic, [])) for topic in topic_ids() if len(examples.get(topic, [])) < minimum}
    assert short == {}


def test_no_example_is_given_to_two_intents():
    owners = defaultdict(set)
    for language in ("it", "en"):
        for intent, examples in examples_by_intent(language).items():
            for example in examples:
                owners[example.lower()].add(intent)
    assert {example: intents for example, intents in owners.items() if len(intents) > 1} == {}


def test_every_topic_is_in_the_domain_and_answered_by_a_rule():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    rules = []
    for path in (PROJECT_ROOT / "data" / "rules").glob("*.yml"):
        rules += yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    answered = {rule["steps"][0]["intent"] for rule in rules
                if rule["steps"][0].get("intent") and rule["steps"][1:] == [{"action": "action_answer_topic"}]}
    assert set(topic_ids()) <= set(domain["intents"])
    assert set(topic_ids()) == answered


def test_every_knowledge_entry_is_sourced_dated_and_bilingual():
    entries = read_seed_files(PROJECT_ROOT / "data" / "knowledge")
    assert Counter(entry["topic"] for entry in entries) == Counter(topic_ids())
    for entry in entries:
        content = entry["content"]
        assert content["source"] and content["verified_on"], entry["topic"]
        for language in ("it", "en"):
            answer = content[f"answer_{language}"]
            assert 150 <= len(answer) <= 1100, (entry["topic"], language, len(answer))
            assert "**" not in answer and "](" not in answer, entry["topic"]


def test_unconfirmed_entries_say_an_operator_will_confirm():
    for entry in read_seed_files(PROJECT_ROOT / "data" / "knowledge"):
        content = entry["content"]
        if content["unconfirmed"]:
            assert content["unconfirmed_points"], entry["topic"]
            # either the text says an operator will confirm, or it marks the point (*), which adds the note
            italian, english = content["answer_it"].lower(), content["answer_en"].lower()
            assert "operator" in italian or "sportello" in italian or "(*)" in italian, entry["topic"]
            assert "operator" in english or "desk" in english or "(*)" in english, entry["topic"]
        else:
            assert content["unconfirmed_points"] == [], entry["topic"]
