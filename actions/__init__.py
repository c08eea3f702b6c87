"""Rasa SDK actions. Each module is one concern; all data access goes through desk.services."""
from actions import request_id as _request_id

_request_id.install()  # request ids and the log format in the action server (actions/request_id.py)
