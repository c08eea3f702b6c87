"""Rasa SDK actions. Each module is one concern; all data access goes through desk.services."""
