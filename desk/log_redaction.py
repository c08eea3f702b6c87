"""No secret in any log line.

The Telegram Bot API puts the bot's token in every URL (`…/bot<TOKEN>/sendMessage`), and
HTTP clients, python-telegram-bot and tracebacks happily log URLs. A filter on the
handlers of the root logger rewrites every record that reaches them: configured secrets
(the bot token, the webhook secret, the desk's secret key) and anything shaped like a
bot token become `[redacted]`."""
from __future__ import annotations

import logging
import re
from typing import Iterable, List, Optional

from desk.config import Settings

REDACTED = "[redacted]"
# A Telegram bot token: the bot's numeric id, a colon, 30-odd URL-safe characters.
_BOT_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
# Secrets shorter than this are not searched for: they would blank out ordinary words.
MIN_SECRET_LENGTH = 6
# Loggers that log every request URL at INFO (the token is in each one).
CHATTY_HTTP_LOGGERS = ("httpx", "httpcore")


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[Optional[str]] = ()) -> None:
        super().__init__()
        self.secrets: List[str] = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _BOT_TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def secrets_of(settings: Settings) -> List[Optional[str]]:
    return [settings.telegram_bot_token, settings.telegram_webhook_secret, settings.secret_key]


def install(settings: Settings, loggers: Iterable[str] = ("", "gunicorn.error", "gunicorn.access")) -> RedactSecrets:
    """Put the filter on the handlers of these loggers (the root one first), once, and keep
    HTTP clients' per-request lines out of the logs."""
    redaction = RedactSecrets(secrets_of(settings))
    for name in loggers:
        for handler in logging.getLogger(name).handlers:
            for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
                handler.removeFilter(old)
            handler.addFilter(redaction)
    for name in CHATTY_HTTP_LOGGERS:
        if logging.getLogger(name).getEffectiveLevel() < logging.WARNING:
            logging.getLogger(name).setLevel(logging.WARNING)
    return redaction


def configure(settings: Settings, level: int = logging.INFO) -> RedactSecrets:
    """The command-line processes' logging: one line per record on stderr, redacted."""
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return install(settings)
