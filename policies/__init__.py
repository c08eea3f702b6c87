"""Custom Rasa dialogue policies.

Rasa imports this package in the assistant's process when it loads the model
(for HandoffPolicy); that is where the action-response validator is swapped for
one compiled once (see action_validation.py)."""
from policies import action_validation

action_validation.install()
