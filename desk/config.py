"""Explicit configuration, read from the environment with safe local defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple

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
    # "polling" (getUpdates, the default) or "webhook" (Telegram posts to the desk's /telegram/webhook).
    telegram_mode: str = "polling"
    # Webhook mode: the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token, and the public
    # HTTPS address of /telegram/webhook (default: public_url + /telegram/webhook).
    telegram_webhook_secret: Optional[str] = None
    telegram_webhook_url: Optional[str] = None
    # The Bot API's addresses (a local Bot API server, or the tests' fake one).
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"
    # Files users send to their open ticket, at most this size (the Bot API serves up to 20 MB).
    telegram_attachment_max_bytes: int = 10 * 1024 * 1024
    # Seconds between two looks at the outbox (operator replies to deliver) and at webhook updates.
    telegram_delivery_interval: float = 2.0
    # Seconds the gateway waits for the assistant before telling the user it is unavailable.
    telegram_assistant_timeout: float = 30.0
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
    # The web widget: the sites (scheme://host[:port]) allowed to embed it besides the desk itself,
    # per-session and per-address limits, how often the browser looks for operator replies,
    # and how long a widget session (its token) lasts.
    widget_origins: Tuple[str, ...] = ()
    widget_messages_per_minute: int = 12
    widget_polls_per_minute: int = 60
    widget_sessions_per_minute: int = 10
    widget_poll_seconds: float = 3.0
    widget_session_days: int = 30
    # Rate-limit counters shared by several desk processes; kept in each process's memory when unset.
    redis_url: Optional[str] = None
    # Ticket lookups by reference one conversation (or channel identity) may make per hour.
    ticket_lookups_per_hour: int = 10
    # Largest request body the desk accepts (widget, webhook, forms), in bytes.
    max_request_bytes: int = 64 * 1024

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
            telegram_mode=_choice(environ.get("TELEGRAM_MODE"), ("polling", "webhook"), defaults.telegram_mode),
            telegram_webhook_secret=environ.get("TELEGRAM_WEBHOOK_SECRET") or None,
            telegram_webhook_url=environ.get("TELEGRAM_WEBHOOK_URL") or None,
            telegram_api_url=environ.get("TELEGRAM_API_URL", defaults.telegram_api_url),
            telegram_file_url=environ.get("TELEGRAM_FILE_URL", defaults.telegram_file_url),
            telegram_attachment_max_bytes=int(
                environ.get("TELEGRAM_ATTACHMENT_MAX_BYTES", defaults.telegram_attachment_max_bytes)
            ),
            telegram_delivery_interval=float(
                environ.get("TELEGRAM_DELIVERY_INTERVAL", defaults.telegram_delivery_interval)
            ),
            telegram_assistant_timeout=float(
                environ.get("TELEGRAM_ASSISTANT_TIMEOUT", defaults.telegram_assistant_timeout)
            ),
            database_connect_timeout=int(
                environ.get("DIALOGA_DB_CONNECT_TIMEOUT", defaults.database_connect_timeout)
            ),
            public_url=public_url.rstrip("/"),
            privacy_url=environ.get("DIALOGA_PRIVACY_URL", f"{public_url.rstrip('/')}/privacy"),
            spool_dir=Path(environ.get("DIALOGA_SPOOL_DIR", defaults.spool_dir)),
            secure_cookies=_flag(environ.get("DIALOGA_SECURE_COOKIES"), defaults.secure_cookies),
            session_minutes=int(environ.get("DIALOGA_SESSION_MINUTES", defaults.session_minutes)),
            learned_nlu_dir=Path(environ.get("DIALOGA_LEARNED_NLU_DIR", defaults.learned_nlu_dir)),
            widget_origins=parse_origins(environ.get("DIALOGA_WIDGET_ORIGINS", "")),
            widget_messages_per_minute=int(
                environ.get("DIALOGA_WIDGET_MESSAGES_PER_MINUTE", defaults.widget_messages_per_minute)
            ),
            widget_polls_per_minute=int(environ.get("DIALOGA_WIDGET_POLLS_PER_MINUTE", defaults.widget_polls_per_minute)),
            widget_sessions_per_minute=int(
                environ.get("DIALOGA_WIDGET_SESSIONS_PER_MINUTE", defaults.widget_sessions_per_minute)
            ),
            widget_poll_seconds=float(environ.get("DIALOGA_WIDGET_POLL_SECONDS", defaults.widget_poll_seconds)),
            widget_session_days=int(environ.get("DIALOGA_WIDGET_SESSION_DAYS", defaults.widget_session_days)),
            redis_url=environ.get("DIALOGA_REDIS_URL") or None,
            ticket_lookups_per_hour=int(environ.get("DIALOGA_TICKET_LOOKUPS_PER_HOUR", defaults.ticket_lookups_per_hour)),
            max_request_bytes=int(environ.get("DIALOGA_MAX_REQUEST_BYTES", defaults.max_request_bytes)),
        )


def _choice(value: Optional[str], allowed, default: str) -> str:
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value not in allowed:
        raise ValueError(f"expected one of {', '.join(allowed)}, not {value!r}")
    return value


def parse_origins(text: str) -> Tuple[str, ...]:
    """"https://www.example.org, http://localhost:8080" -> normalised origins (no path, no trailing slash)."""
    origins = []
    for item in text.split(","):
        item = item.strip().rstrip("/").lower()
        if not item:
            continue
        scheme, separator, rest = item.partition("://")
        if scheme not in ("http", "https") or not separator or not rest or "/" in rest:
            raise ValueError(f"a widget origin looks like https://www.example.org, not {item!r}")
        origins.append(item)
    return tuple(origins)


def _flag(value: Optional[str], default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")
