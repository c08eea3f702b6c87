"""The compiled action-response validator accepts and rejects what Rasa's own does."""
import pytest
from jsonschema import ValidationError, validate

import policies  # noqa: F401  (installs the compiled validator)
from rasa.core.actions.action import RemoteAction

GOOD = [
    {"events": [{"event": "slot", "name": "language", "value": "it"}], "responses": [{"text": "Ciao"}]},
    {"events": [], "responses": []},
    {},
]
BAD = [
    {"events": [{"name": "language"}]},  # an event without its type
    {"events": "not a list"},
]


@pytest.mark.parametrize("result", GOOD)
def test_valid_responses_pass(result):
    validate(result, RemoteAction.action_response_format_spec())
    assert RemoteAction("action_x", None)._validate_action_result(result) is True


@pytest.mark.parametrize("result", BAD)
def test_invalid_responses_fail_like_rasas(result):
    with pytest.raises(ValidationError) as rasa_style:
        validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError) as ours:
        RemoteAction("action_x", None)._validate_action_result(result)
    assert ours.value.message.startswith(rasa_style.value.message)
    assert "Failed to validate Action server response" in ours.value.message
