"""Desk services: the only code that reads and writes the desk's tables.

Each function takes an open SQLAlchemy Session (from Database.session()) so
that the caller decides the unit of work."""
