"""Held-out evaluation of the assistant through the REST contract (`make eval`)."""
