"""Sending one e-mail over SMTP (smtplib), and what the server's answer means for the outbox.

The server's certificate is always verified, against the system's CAs or DIALOGA_SMTP_CA_FILE,
with STARTTLS or implicit TLS. A permanent refusal of this message (5xx to MAIL FROM, RCPT TO
or DATA, or as the final reply to its content) fails it at once; a temporary one (4xx), a server
that is down or slow, or a problem of the desk's own setup (TLS, login, greeting) is retried
with the outbox's backoff: the server has not taken the message.

Once the server has answered 354 to DATA, the content goes out, and a server that accepts it
says so in its final reply. A conversation that ends there without that reply (a timeout, a
connection lost) may have delivered the message: it is "unconfirmed", never sent again
automatically (README "E-mail"). Before the 354 nothing of the message was sent, so a lost
connection there is retried. After a final 250 the message is sent whatever QUIT does."""
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

    def conversation_steps(self) -> int:
        """The blocking steps of one conversation, each bounded by `timeout`: connect, greeting,
        EHLO, MAIL, RCPT, DATA, the content, the final reply, QUIT; STARTTLS adds its command, the
        handshake and a second EHLO, implicit TLS its handshake, a login up to two exchanges."""
        steps = 9 + {"starttls": 3, "tls": 1}.get(self.security, 0)
        return steps + (2 if self.user else 0)

    def send_lease(self) -> int:
        """Seconds one send may take at most (plus 10 for name resolution, which `timeout` does not
        bound): after that, an e-mail still "sending" belongs to a worker that died and becomes
        "unconfirmed" (outbox.reconcile_interrupted). A worker that was only slow records its
        outcome over it afterwards."""
        return int(self.conversation_steps() * self.timeout) + 10


@dataclass(frozen=True)
class Outcome:
    status: str  # "sent", "retry", "failed", "unconfirmed"
    error: Optional[str] = None


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def outcome_of(error: Exception, content_sent: bool = False) -> Outcome:
    """What an smtplib or network error means for this message; `content_sent`: the server had
    answered 354 to DATA, so an error that is not its reply leaves the outcome unknown."""
    if content_sent and not isinstance(error, smtplib.SMTPResponseException):
        return Outcome("unconfirmed", f"no final reply to the message's content, it may have arrived: "
                                      f"{type(error).__name__}: {error}")
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


class _Tracking:
    """An smtplib client that knows whether the message's content went out: the server answered
    354 to DATA (smtplib's data() sends the content right after that reply)."""

    content_sent = False
    _in_data = False

    def data(self, msg):
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = False

    def getreply(self):
        code, text = super().getreply()
        if self._in_data and code == 354:
            self.content_sent = True
        return code, text


class _Client(_Tracking, smtplib.SMTP):
    pass


class _TlsClient(_Tracking, smtplib.SMTP_SSL):
    pass


def send(server: SmtpServer, message: EmailMessage) -> Outcome:
    client = None
    try:
        client = _connect(server)
        client.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        return outcome_of(error, content_sent=client is not None and client.content_sent)
    finally:
        if client is not None:
            _close(client)
    return Outcome("sent")


def _close(client: smtplib.SMTP) -> None:
    """QUIT, politely; its answer changes nothing (the message's fate is already known)."""
    try:
        if client.sock is not None:
            client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


def _connect(server: SmtpServer) -> smtplib.SMTP:
    if server.security == "tls":
        client = _TlsClient(server.host, server.port, timeout=server.timeout, context=server.tls_context())
    else:
        client = _Client(server.host, server.port, timeout=server.timeout)
    try:
        if server.security == "starttls":
            client.starttls(context=server.tls_context())
        if server.user:
            client.login(server.user, server.password or "")
    except BaseException:
        client.close()
        raise
    return client
