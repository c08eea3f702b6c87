"""Explicit configuration, read from the environment with safe local defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# Signs desk sessions and widget tokens; only acceptable in development (desk/startup_checks.py).
DEVELOPMENT_SECRET_KEY = "dev-only-change-me"


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'dialoga.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    rasa_url: str = "http://127.0.0.1:5005"
    actions_port: int = 5055
    desk_host: str = "127.0.0.1"
    desk_port: int = 8000
    # "production" (the default outside `make run`) refuses the development secret key at start-up;
    # "development" (DIALOGA_ENV=development, set by `make run`) accepts it.
    environment: str = "production"
    secret_key: str = DEVELOPMENT_SECRET_KEY
    knowledge_dir: Path = PROJECT_ROOT / "data" / "knowledge"
    directory_file: Path = PROJECT_ROOT / "data" / "directory" / "service_points.yml"
    # A knowledge entry last verified longer ago than this is flagged for re-checking in the desk.
    knowledge_stale_days: int = 180
    # A dated fact that ends within this many days is listed "in scadenza" in the desk.
    knowledge_expiry_warning_days: int = 30
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
    # Seconds the Bot API has to answer a request (python-telegram-bot's read timeout). A send with no
    # answer in time may have arrived: it is "unconfirmed", never sent twice (bot/telegram/delivery.py).
    telegram_read_timeout: float = 10.0
    # Seconds a connection attempt may take before the database counts as unreachable.
    database_connect_timeout: int = 3
    # Where the desk is reached by users' browsers (links in chat messages).
    public_url: str = "http://127.0.0.1:8000"
    privacy_url: str = ""
    # Map tiles for the public page of service points (/sportelli/), e.g.
    # https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty: no map, the list only.
    map_tiles_url: str = ""
    map_attribution: str = "© OpenStreetMap contributors"
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
    redis_prefix: str = "dialoga:rate"
    # Production (README "Deployment"): where the action servers answer (their balancer), asked
    # whether they are up when the assistant replies nothing; the desk runs behind one proxy (nginx)
    # whose X-Forwarded-For/-Proto it trusts; the token of GET /metrics (unset: loopback only);
    # "json" logs (one object per line) or "text".
    actions_url: Optional[str] = None
    behind_proxy: bool = False
    metrics_token: Optional[str] = None
    log_format: str = "text"
    # The assistant's models: the live file (dialoga.tar.gz), candidates trained from the desk, and
    # the secret the assistants send (Rasa's model-server `token`) to pull the live model from the
    # desk's /models/live.tar.gz; that endpoint answers 404 while no token is set.
    models_dir: Path = PROJECT_ROOT / "models"
    model_server_token: Optional[str] = None
    # Personal data: retention periods, the privacy notice's facts, the assistant's tracker store.
    privacy: "PrivacySettings" = field(default_factory=lambda: PrivacySettings())
    # E-mail (bot/email, sent by `dialoga worker`): the SMTP server, "starttls", "tls" (implicit TLS,
    # usually port 465) or "none" (loopback relays only); the server's certificate is checked against
    # the system's CAs or smtp_ca_file. No host: e-mails wait in the outbox.
    smtp_host: Optional[str] = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: Optional[str] = None
    smtp_password: Optional[str] = None
    smtp_ca_file: Optional[Path] = None
    smtp_timeout: float = 20.0
    # From: the desk's address; Reply-To: the mailbox operators read.
    email_from: str = "Sportello Dialoga <sportello@localhost>"
    email_reply_to: Optional[str] = None
    # A widget reply still unread after this long also goes by e-mail, when the ticket has one.
    email_after_unread_minutes: int = 30
    # How long the link to a ticket's follow-up page (sent in every e-mail) stays valid.
    follow_up_link_days: int = 30
    # Requests to follow-up pages per client address per minute (guessing tokens gets nowhere fast).
    follow_up_requests_per_minute: int = 30

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)
    # How many reverse proxies in front of the desk set X-Forwarded-For/-Proto (0: trust none).
    proxy_hops: int = 0
    # Login attempts one client address may make per minute (then 429).
    login_attempts_per_minute: int = 10
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
            environment=_choice(environ.get("DIALOGA_ENV"), ("development", "production"), defaults.environment),
            secret_key=environ.get("DIALOGA_SECRET_KEY") or defaults.secret_key,
            knowledge_dir=Path(environ.get("DIALOGA_KNOWLEDGE_DIR", defaults.knowledge_dir)),
            directory_file=Path(environ.get("DIALOGA_DIRECTORY_FILE", defaults.directory_file)),
            knowledge_stale_days=int(environ.get("DIALOGA_KB_STALE_DAYS", defaults.knowledge_stale_days)),
            knowledge_expiry_warning_days=int(environ.get("DIALOGA_KB_EXPIRY_WARNING_DAYS",
                                                          defaults.knowledge_expiry_warning_days)),
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
            telegram_read_timeout=float(environ.get("TELEGRAM_READ_TIMEOUT", defaults.telegram_read_timeout)),
            database_connect_timeout=int(
                environ.get("DIALOGA_DB_CONNECT_TIMEOUT", defaults.database_connect_timeout)
            ),
            public_url=public_url.rstrip("/"),
            privacy_url=environ.get("DIALOGA_PRIVACY_URL", f"{public_url.rstrip('/')}/privacy"),
            map_tiles_url=environ.get("DIALOGA_MAP_TILES_URL", defaults.map_tiles_url).strip(),
            map_attribution=environ.get("DIALOGA_MAP_ATTRIBUTION", defaults.map_attribution).strip(),
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
            redis_prefix=environ.get("DIALOGA_REDIS_PREFIX") or defaults.redis_prefix,
            actions_url=(environ.get("DIALOGA_ACTIONS_URL") or "").rstrip("/") or None,
            behind_proxy=_flag(environ.get("DIALOGA_BEHIND_PROXY"), defaults.behind_proxy),
            metrics_token=environ.get("DIALOGA_METRICS_TOKEN") or None,
            log_format=_choice(environ.get("DIALOGA_LOG_FORMAT"), ("text", "json"), defaults.log_format),
            models_dir=Path(environ.get("DIALOGA_MODELS_DIR", defaults.models_dir)),
            model_server_token=environ.get("DIALOGA_MODEL_SERVER_TOKEN") or None,
            privacy=PrivacySettings.from_env(environ),
            smtp_host=environ.get("DIALOGA_SMTP_HOST") or None,
            smtp_port=int(environ.get("DIALOGA_SMTP_PORT") or defaults.smtp_port),
            smtp_security=_choice(environ.get("DIALOGA_SMTP_SECURITY"), ("starttls", "tls", "none"), defaults.smtp_security),
            smtp_user=environ.get("DIALOGA_SMTP_USER") or None,
            smtp_password=environ.get("DIALOGA_SMTP_PASSWORD") or None,
            smtp_ca_file=Path(environ["DIALOGA_SMTP_CA_FILE"]) if environ.get("DIALOGA_SMTP_CA_FILE") else None,
            smtp_timeout=float(environ.get("DIALOGA_SMTP_TIMEOUT") or defaults.smtp_timeout),
            email_from=environ.get("DIALOGA_EMAIL_FROM") or defaults.email_from,
            email_reply_to=environ.get("DIALOGA_EMAIL_REPLY_TO") or None,
            email_after_unread_minutes=int(
                environ.get("DIALOGA_EMAIL_AFTER_UNREAD_MINUTES") or defaults.email_after_unread_minutes
            ),
            follow_up_link_days=int(environ.get("DIALOGA_FOLLOW_UP_LINK_DAYS") or defaults.follow_up_link_days),
            follow_up_requests_per_minute=int(
                environ.get("DIALOGA_FOLLOW_UP_REQUESTS_PER_MINUTE") or defaults.follow_up_requests_per_minute
            ),
            proxy_hops=int(environ.get("DIALOGA_PROXY_HOPS") or defaults.proxy_hops),
            login_attempts_per_minute=int(
                environ.get("DIALOGA_LOGIN_ATTEMPTS_PER_MINUTE", defaults.login_attempts_per_minute)
            ),
            ticket_lookups_per_hour=int(environ.get("DIALOGA_TICKET_LOOKUPS_PER_HOUR", defaults.ticket_lookups_per_hour)),
            max_request_bytes=int(environ.get("DIALOGA_MAX_REQUEST_BYTES", defaults.max_request_bytes)),
        )


@dataclass(frozen=True)
class PrivacySettings:
    """What the privacy notice states and the software enforces (desk/services/privacy)."""

    # Days after which each kind of data is anonymised or deleted (the rules: desk/services/privacy/retention.py).
    # (kind, days) pairs; kinds left out keep their default.
    retention_days: Tuple[Tuple[str, int], ...] = ()
    # The privacy notice (/privacy): its version, recorded on every ticket with the user's consent,
    # the controller and the data protection officer.
    notice_version: str = "2026-12-01"
    controller_name: str = ""
    controller_contact: str = ""
    dpo_contact: str = ""
    # Rasa's SQL tracker store (production), whose conversations erasure deletes and the purge ages out;
    # and the token of Rasa's HTTP API (rasa run --enable-api --auth-token), through which erasure
    # resets the running assistant's memory of a conversation.
    tracker_store_url: Optional[str] = None
    rasa_api_token: Optional[str] = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "PrivacySettings":
        from desk.services.privacy.retention import RetentionPolicy

        defaults = cls()
        return cls(
            retention_days=RetentionPolicy.from_env(environ).as_pairs(),
            notice_version=environ.get("DIALOGA_PRIVACY_NOTICE_VERSION", "").strip() or defaults.notice_version,
            controller_name=environ.get("DIALOGA_PRIVACY_CONTROLLER", "").strip(),
            controller_contact=environ.get("DIALOGA_PRIVACY_CONTROLLER_CONTACT", "").strip(),
            dpo_contact=environ.get("DIALOGA_PRIVACY_DPO_CONTACT", "").strip(),
            tracker_store_url=environ.get("DIALOGA_TRACKER_STORE_URL") or None,
            rasa_api_token=environ.get("DIALOGA_RASA_API_TOKEN") or None,
        )

    @property
    def retention(self):
        """The retention policy (desk.services.privacy.retention.RetentionPolicy) these settings give."""
        from desk.services.privacy.retention import RetentionPolicy

        return RetentionPolicy.from_pairs(self.retention_days)


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
