"""Intakes completed while the database was unreachable, kept as files until
they can be registered. Nothing the user consented to send is lost.

Each intake is one JSON file, written atomically (temporary file, fsync,
rename); registering is idempotent on the intake key, so a file drained twice
still opens one ticket."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import List

from desk.db import Database, DatabaseUnavailable
from desk.services import tickets
from desk.services.business_hours import BusinessCalendar

log = logging.getLogger(__name__)


class IntakeSpool:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def save(self, intake: "tickets.TicketIntake") -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        payload = dataclasses.asdict(intake)
        target = self.directory / f"{intake.intake_key}.json"
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(payload, stream, default=_encode, ensure_ascii=False)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
        return target

    def pending(self) -> List[Path]:
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob("*.json"))

    def drain(self, database: Database, calendar: BusinessCalendar) -> int:
        """Register every spooled intake; stops quietly while the database is still down."""
        registered = 0
        for path in self.pending():
            intake = _decode(json.loads(path.read_text(encoding="utf-8")))
            try:
                with database.session() as session:
                    tickets.open_ticket(session, intake, calendar)
            except DatabaseUnavailable:
                log.info("database still unavailable: %d intakes wait in %s", len(self.pending()), self.directory)
                break
            path.unlink()
            registered += 1
        return registered


def _encode(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in the intake spool")


def _decode(payload: dict) -> "tickets.TicketIntake":
    fields = {field.name for field in dataclasses.fields(tickets.TicketIntake)}
    data = {key: value for key, value in payload.items() if key in fields}
    if isinstance(data.get("consent_at"), str):
        data["consent_at"] = datetime.fromisoformat(data["consent_at"])
    return tickets.TicketIntake(**data)
