"""A real SMTP server on loopback (aiosmtpd in a thread of the test process) that keeps what it
receives, parsed with the standard library, and can refuse recipients with any reply code.
Optionally STARTTLS (required, with a login) or implicit TLS, with a throwaway certificate
authority made by trustme."""
from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections import deque
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Deque, Dict, Iterator, List, Optional, Set

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER, SMTP_PASSWORD = "desk", "una-password-smtp"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingHandler:
    """Accepts mail and keeps it; `refuse[address]` answers RCPT TO for that address with a
    reply such as "550 5.1.1 User unknown" (always), `refuse_once` with the next replies only.

    Trouble after RCPT: `refuse_content_once` answers the next contents with these final replies
    (not kept); `drop_once` closes the connection without a reply at the next "RCPT" (nothing of
    the message sent yet) or right after keeping the next content ("DATA": the server has the
    message, the client never hears so); `confirm_delay` keeps each content at once and answers
    that many seconds later (a server slow to confirm what it already has); the n-th contents
    (counting from 1) in `hold_contents` are kept, listed in `held`, and never confirmed: the
    server waits until the client goes. `delay` waits before keeping a content.
    `contents_started` counts the contents the server began to handle."""

    def __init__(self, delay: float = 0.0, confirm_delay: float = 0.0) -> None:
        self.messages: List[EmailMessage] = []
        self.refuse: Dict[str, str] = {}
        self.refuse_once: Deque[str] = deque()
        self.refuse_content_once: Deque[str] = deque()
        self.drop_once: Deque[str] = deque()
        self.delay = delay
        self.confirm_delay = confirm_delay
        self.contents_started = 0
        self.hold_contents: Set[int] = set()
        self.held: List[EmailMessage] = []
        self._lock = threading.Lock()

    def _next_drop(self, step: str) -> bool:
        with self._lock:
            if self.drop_once and self.drop_once[0] == step:
                self.drop_once.popleft()
                return True
        return False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._next_drop("RCPT"):
            await _hang_up(server)
        with self._lock:
            refusal = self.refuse.get(address) or (self.refuse_once.popleft() if self.refuse_once else None)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.contents_started += 1
            number = self.contents_started
            refusal = self.refuse_content_once.popleft() if self.refuse_content_once else None
        if refusal:
            return refusal
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow server: concurrent senders overlap
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or envelope.content)
        with self._lock:
            self.messages.append(message)
            if number in self.hold_contents:
                self.held.append(message)
        if number in self.hold_contents:
            await asyncio.Event().wait()  # cancelled by aiosmtpd when the client's connection goes
        if self._next_drop("DATA"):
            await _hang_up(server)
        if self.confirm_delay:
            await asyncio.sleep(self.confirm_delay)
        return "250 Message accepted for delivery"

    def received(self) -> List[EmailMessage]:
        with self._lock:
            return list(self.messages)


async def _hang_up(server) -> None:
    """Close the connection without answering; aiosmtpd then cancels the session's handler."""
    server.transport.close()
    await asyncio.Event().wait()


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok)


class ThrowawayAuthority:
    """A throwaway CA and a certificate for 127.0.0.1 / localhost; ca_file is what clients trust."""

    def __init__(self, directory: Path) -> None:
        import trustme

        self.ca = trustme.CA()
        self.certificate = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = directory / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.certificate.configure_cert(context)
        return context


@contextmanager
def smtp_server(handler: Optional[RecordingHandler] = None, port: Optional[int] = None, security: str = "none",
                authority: Optional[ThrowawayAuthority] = None) -> Iterator["RunningSmtp"]:
    """security: "none", "starttls" (required before anything) or "tls" (implicit); both TLS ones
    require a login (SMTP_USER, SMTP_PASSWORD)."""
    handler = handler or RecordingHandler()
    port = port or free_port()
    options = {}
    if security == "starttls":
        options = dict(tls_context=authority.server_context(), require_starttls=True, auth_require_tls=True,
                       authenticator=_authenticate, auth_required=True)
    elif security == "tls":
        # The whole connection is TLS, which aiosmtpd's auth_require_tls does not see.
        options = dict(ssl_context=authority.server_context(), authenticator=_authenticate, auth_required=True,
                       auth_require_tls=False)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield RunningSmtp(handler, port)
    finally:
        controller.stop()


class RunningSmtp:
    def __init__(self, handler: RecordingHandler, port: int) -> None:
        self.handler = handler
        self.port = port

    def received(self) -> List[EmailMessage]:
        return self.handler.received()
