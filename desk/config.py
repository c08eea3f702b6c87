"""Explicit configuration, read from the environment with safe local defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'dialoga.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    rasa_url: str = "http://127.0.0.1:5005"
    actions_port: int = 5055
    desk_host: str = "127.0.0.1"
    desk_port: int = 8000
    secret_key: str = "dev-only-change-me"
    knowledge_dir: Path = PROJECT_ROOT / "data" / "knowledge"
    directory_file: Path = PROJECT_ROOT / "data" / "directory" / "service_points.yml"
    # A knowledge entry last verified longer ago than this is flagged for re-checking in the desk.
    knowledge_stale_days: int = 180
    telegram_bot_token: Optional[str] = None
    # Seconds a connection attempt may take before the database counts as unreachable.
    database_connect_timeout: int = 3
    # Where the desk is reached by users' browsers (links in chat messages).
    public_url: str = "http://127.0.0.1:8000"
    privacy_url: str = ""
    # Intakes completed while the database was unreachable wait here to be registered.
    spool_dir: Path = PROJECT_ROOT / "var" / "spool"
    # Desk sessions: cookies only over HTTPS in production; an idle session expires.
    secure_cookies: bool = False
    session_minutes: int = 480
    # Where the learning loop writes examples labelled by operators (<dir>/<lang>/learned.yml);
    # the next training reads them with the rest of data/nlu.
    learned_nlu_dir: Path = PROJECT_ROOT / "data" / "nlu"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        defaults = cls()
        rasa_port = environ.get("RASA_PORT", "5005")
        public_url = environ.get("DIALOGA_PUBLIC_URL", f"http://127.0.0.1:{environ.get('DESK_PORT', defaults.desk_port)}")
        return cls(
            database_url=environ.get("DIALOGA_DATABASE_URL", defaults.database_url),
            rasa_url=environ.get("DIALOGA_RASA_URL", f"http://127.0.0.1:{rasa_port}"),
            actions_port=int(environ.get("ACTIONS_PORT", defaults.actions_port)),
            desk_host=environ.get("DESK_HOST", defaults.desk_host),
            desk_port=int(environ.get("DESK_PORT", defaults.desk_port)),
            secret_key=environ.get("DIALOGA_SECRET_KEY", defaults.secret_key),
            knowledge_dir=Path(environ.get("DIALOGA_KNOWLEDGE_DIR", defaults.knowledge_dir)),
            directory_file=Path(environ.get("DIALOGA_DIRECTORY_FILE", defaults.directory_file)),
            knowledge_stale_days=int(environ.get("DIALOGA_KB_STALE_DAYS", defaults.knowledge_stale_days)),
            telegram_bot_token=environ.get("TELEGRAM_BOT_TOKEN") or None,
            database_connect_timeout=int(
                environ.get("DIALOGA_DB_CONNECT_TIMEOUT", defaults.database_connect_timeout)
            ),
            public_url=public_url.rstrip("/"),
            privacy_url=environ.get("DIALOGA_PRIVACY_URL", f"{public_url.rstrip('/')}/privacy"),
            spool_dir=Path(environ.get("DIALOGA_SPOOL_DIR", defaults.spool_dir)),
            secure_cookies=_flag(environ.get("DIALOGA_SECURE_COOKIES"), defaults.secure_cookies),
            session_minutes=int(environ.get("DIALOGA_SESSION_MINUTES", defaults.session_minutes)),
            learned_nlu_dir=Path(environ.get("DIALOGA_LEARNED_NLU_DIR", defaults.learned_nlu_dir)),
        )


def _flag(value: Optional[str], default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")
