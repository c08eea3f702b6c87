"""The desk: the one application that owns the database and its services.

Channels (bot/), Rasa actions (actions/) and the operators' web app
(desk.web) all go through desk.services; nothing else writes the tables.
"""
