"""The intent model (classifiers/ensemble.py) on a small training set of its own:
meaning through sentence embeddings, long messages read sentence by sentence."""
from __future__ import annotations

import pytest

from classifiers.ensemble import EnsembleModel, sentences_of

TRAINING = {
    "congedo_paternita": [
        "quanti giorni di congedo di paternità spettano al papà",
        "congedo padre dopo la nascita del figlio",
        "giorni di paternità obbligatoria",
        "how many days of paternity leave does a father get",
        "il papà può stare a casa quando nasce il bambino?",
        "paternità 10 giorni come funziona",
    ],
    "smart_working_definizione": [
        "cos'è lo smart working",
        "lavoro agile cosa significa",
        "lavorare da casa con il computer aziendale",
        "what is smart working",
        "come funziona il lavoro da remoto",
        "lavoro agile definizione legge 81",
    ],
    "out_of_scope": [
        "quando vado in pensione",
        "che tempo fa domani a milano",
        "come si calcola l'imu",
        "mi hanno licenziato cosa faccio",
        "how do I renew my residence permit",
        "la naspi quanto dura",
    ],
    "thank": ["grazie mille", "grazie per la risposta", "thank you very much", "ti ringrazio", "grazie, cordiali saluti",
              "thanks a lot"],
}


@pytest.fixture(scope="module")
def model():
    texts = [text for examples in TRAINING.values() for text in examples]
    labels = [label for label, examples in TRAINING.items() for _ in examples]
    return EnsembleModel.train(texts, labels, embedding_weight=0.5, question_weight=0.8)


def top(model, text: str) -> str:
    return model.rank([text])[0][0]["name"]


def test_a_ranking_is_a_probability_distribution_over_every_intent(model):
    ranking = model.rank(["quanti giorni di paternità?"], length=10)[0]
    assert [r["name"] for r in ranking][0] == "congedo_paternita"
    assert {r["name"] for r in ranking} == set(TRAINING)
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-6)
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])


def test_english_questions_are_understood_through_meaning(model):
    # no training example shares these words with its topic, beyond function words
    assert top(model, "my wife gave birth yesterday, can the dad stay home some days?") == "congedo_paternita"


def test_a_long_message_is_understood_by_its_question_not_by_the_description_first():
    texts = [text for examples in TRAINING.values() for text in examples]
    labels = [label for label, examples in TRAINING.items() for _ in examples]
    description = ("Buongiorno, gestisco una piccola ditta dove da anni lavoriamo da remoto con il computer "
                   "aziendale, il lavoro agile da noi funziona benissimo e lo usano tutti quanti.")
    question = "Un dipendente diventa papà la prossima settimana: quanti giorni di paternità gli spettano?"
    message = f"{description} {question} Grazie mille, cordiali saluti."
    whole_only = EnsembleModel.train(texts, labels, embedding_weight=0.5, question_weight=0.0)
    by_sentence = EnsembleModel.train(texts, labels, embedding_weight=0.5, question_weight=0.8)
    assert top(whole_only, message) != "congedo_paternita"  # the description drowns the question
    assert top(by_sentence, message) == "congedo_paternita"


def test_sentences_of_splits_messages_of_several_sentences_only():
    assert sentences_of("quanti giorni di paternità mi spettano?") == []
    assert sentences_of("Ho una ditta di 12 addetti. Quanti giorni spettano al papà? Grazie.") == [
        "Ho una ditta di 12 addetti.", "Quanti giorni spettano al papà?"]


def test_the_rasa_component_hands_an_unsure_topic_to_the_fallback_and_keeps_the_ranking(model, monkeypatch):
    from rasa.shared.nlu.training_data.message import Message

    from classifiers.intent_classifier import EnsembleIntentClassifier

    clear, unsure = "quanti giorni di paternità spettano al papà", "paternità e smart working"
    component = EnsembleIntentClassifier({}, None, None, model)
    messages = component.process([Message(data={"text": clear}), Message(data={"text": unsure})])
    assert messages[0].get("intent")["name"] == "congedo_paternita"
    assert messages[1].get("intent")["name"] == "nlu_fallback"
    assert {r["name"] for r in messages[1].get("intent_ranking")[:2]} == {"congedo_paternita", "smart_working_definizione"}
    # the answer rule's thresholds come from the environment, as in the action server
    monkeypatch.setenv("DIALOGA_CLARIFY_ANSWER_MIN_MARGIN", "1.0")
    strict = EnsembleIntentClassifier({}, None, None, model)
    assert strict.process([Message(data={"text": clear})])[0].get("intent")["name"] == "nlu_fallback"


def test_the_assistant_reads_one_message_at_a_time_with_the_same_probabilities(model):
    """ready_for_messages (at model load) changes the layout of the weights, not a single number."""
    import copy

    import numpy as np

    messages = ["quanti giorni di paternità?", "what is smart working", "grazie", "la naspi",
                "Ho una ditta di 12 addetti. Quanti giorni spettano al papà quando nasce il figlio? Grazie mille a voi."]
    before = np.vstack([model.probabilities([m]) for m in messages])
    ready = copy.deepcopy(model).ready_for_messages()
    assert ready.surface.named_steps["classifier"].coef_.T.flags["C_CONTIGUOUS"]
    after = np.vstack([ready.probabilities([m]) for m in messages])
    assert np.array_equal(before, after)
