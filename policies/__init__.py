"""Custom Rasa dialogue policies.

Rasa imports this package in the assistant's process when it loads the model
(for HandoffPolicy); that is where the action-response validator is swapped for
one compiled once (see action_validation.py), and the tracker's applied events are
computed in linear time (see applied_events.py), event classes are looked up once
per name (see event_types.py), the tracker sent to the action server carries only
the recent events our actions read (see tracker_window.py), and the dialogue states of the history are
built once per prediction instead of once per policy call (see past_states.py;
DIALOGA_RASA_ORIGINAL_PAST_STATES=1 keeps Rasa's method, to measure the difference)."""
import os

from policies import action_validation, applied_events, event_types, past_states, tracker_window

action_validation.install()
applied_events.install()
event_types.install()
tracker_window.install()
if os.environ.get("DIALOGA_RASA_ORIGINAL_PAST_STATES") != "1":
    past_states.install()
