"""Validate action-server responses with a validator compiled once.

Rasa 3.6 checks every response of the action server against a fixed JSON schema
with `jsonschema.validate`, which re-checks the schema itself and rebuilds the
validator on each call. Profiling the assistant under load (py-spy, see
BENCHMARKS.md) showed this taking about 30% of the Rasa server's CPU, because
every user message runs two custom actions. The schema never changes, so we
build its validator once and keep Rasa's behaviour: the same schema, the same
error (the best match) with the same explanatory message."""
from __future__ import annotations

from typing import Any, Dict, Text

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_SCHEMA = RemoteAction.action_response_format_spec()
_VALIDATOR = validator_for(_SCHEMA)(_SCHEMA)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    error = best_match(_VALIDATOR.iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    validator_for(_SCHEMA).check_schema(_SCHEMA)  # once, as jsonschema.validate would on every call
    RemoteAction._validate_action_result = validate_action_result


__all__ = ["install", "validate_action_result", "ValidationError"]
