"""Sending one e-mail over SMTP (smtplib), and what the server's answer means for the outbox.

The server's certificate is always verified, against the system's CAs or DIALOGA_SMTP_CA_FILE,
with STARTTLS or implicit TLS. A permanent refusal of this message (5xx to MAIL FROM, RCPT TO
or DATA) fails it at once; a temporary one (4xx), a server that is down or slow, or a problem
of the desk's own setup (TLS, login, greeting) is retried with the outbox's backoff."""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Optional

from desk.config import Settings


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # "starttls", "tls" (implicit) or "none"
    user: Optional[str] = None
    password: Optional[str] = None
    ca_file: Optional[Path] = None
    timeout: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "SmtpServer":
        if not settings.smtp_host:
            raise ValueError("DIALOGA_SMTP_HOST is not set")
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_user,
                   settings.smtp_password, settings.smtp_ca_file, settings.smtp_timeout)

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)


@dataclass(frozen=True)
class Outcome:
    status: str  # "sent", "retry", "failed"
    error: Optional[str] = None


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def outcome_of(error: Exception) -> Outcome:
    """What an smtplib or network error means for this message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reason = next(iter(error.recipients.values()), (0, b""))
        return _by_code(code, f"{code} {_text(reason)}")
    if isinstance(error, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return _by_code(error.smtp_code, f"{error.smtp_code} {_text(error.smtp_error)}")
    if isinstance(error, smtplib.SMTPResponseException):
        # Greeting, HELO, login: about the desk's setup, not this message; fixed, it goes.
        return Outcome("retry", f"{error.smtp_code} {_text(error.smtp_error)}")
    if isinstance(error, ssl.SSLError):
        return Outcome("retry", f"TLS: {error}")
    if isinstance(error, (smtplib.SMTPException, OSError)):
        return Outcome("retry", f"{type(error).__name__}: {error}")
    raise error


def _by_code(code: int, description: str) -> Outcome:
    return Outcome("failed" if 500 <= code < 600 else "retry", description)


def send(server: SmtpServer, message: EmailMessage) -> Outcome:
    try:
        with _connect(server) as client:
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        return outcome_of(error)
    return Outcome("sent")


def _connect(server: SmtpServer) -> smtplib.SMTP:
    if server.security == "tls":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=server.tls_context())
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    try:
        if server.security == "starttls":
            client.starttls(context=server.tls_context())
        if server.user:
            client.login(server.user, server.password or "")
    except BaseException:
        client.close()
        raise
    return client
