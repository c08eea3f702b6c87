"""The e-mail rules without a database or a server: when a message also goes by e-mail, what an
SMTP answer means for the outbox, and how an e-mail is written and threaded."""
from __future__ import annotations

import re
import smtplib
import ssl
from datetime import datetime, timedelta

import pytest

from bot.email.message import OutgoingEmail, Sender, compose, mail_domain
from bot.email.smtp import SmtpServer, outcome_of
from desk.services.email_routing import LINK_REQUEST_INTERVAL, email_at_once, email_if_unread, may_send_link

SENDER = Sender("Sportello <sportello@dialoga.example>", "operatori@dialoga.example", 30)


@pytest.mark.parametrize("channel, contact_kind, at_once, if_unread", [
    ("telegram", "email", True, False),
    ("rest", "email", True, False),
    ("widget", "email", False, True),
    ("telegram", "channel", False, False),
    ("widget", "channel", False, False),
    ("widget", "phone", False, False),
])
def test_which_messages_also_go_by_email(channel, contact_kind, at_once, if_unread):
    assert email_at_once(channel, contact_kind) is at_once
    assert email_if_unread(channel, contact_kind) is if_unread


def test_a_link_is_sent_at_most_once_in_a_while():
    now = datetime(2026, 12, 1, 10)
    assert may_send_link(None, now)
    assert not may_send_link(now - LINK_REQUEST_INTERVAL + timedelta(seconds=1), now)
    assert may_send_link(now - LINK_REQUEST_INTERVAL, now)


@pytest.mark.parametrize("error, status, reason", [
    (smtplib.SMTPRecipientsRefused({"a@b.example": (550, b"5.1.1 User unknown")}), "failed", "550 5.1.1 User unknown"),
    (smtplib.SMTPRecipientsRefused({"a@b.example": (451, b"4.3.0 Try later")}), "retry", "451 4.3.0 Try later"),
    (smtplib.SMTPRecipientsRefused({"a@b.example": (421, b"4.7.0 Closing")}), "retry", "421 4.7.0 Closing"),
    (smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"), "failed", "554 5.7.1 Message rejected as spam"),
    (smtplib.SMTPDataError(452, b"4.3.1 Insufficient storage"), "retry", "452"),
    (smtplib.SMTPSenderRefused(553, b"5.7.1 Sender not allowed", "sportello@x"), "failed", "553"),
    # About the desk's own setup, not this message: retried until someone fixes it.
    (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), "retry", "535 5.7.8 Bad credentials"),
    (smtplib.SMTPConnectError(554, b"No service"), "retry", "554"),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), "retry", "SMTPServerDisconnected"),
    (ConnectionRefusedError(111, "Connection refused"), "retry", "ConnectionRefusedError"),
    (TimeoutError("timed out"), "retry", "TimeoutError"),
    (ssl.SSLCertVerificationError("certificate verify failed"), "retry", "TLS: "),
])
def test_what_an_smtp_answer_means(error, status, reason):
    outcome = outcome_of(error)
    assert outcome.status == status and reason in outcome.error


@pytest.mark.parametrize("error, status", [
    # After the server's 354 the content went out: without its final reply nobody knows.
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed: timed out"), "unconfirmed"),
    (TimeoutError("timed out"), "unconfirmed"),
    (ConnectionResetError(104, "Connection reset by peer"), "unconfirmed"),
    # A final reply is an answer, whatever it says.
    (smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"), "failed"),
    (smtplib.SMTPDataError(451, b"4.3.0 Try again later"), "retry"),
])
def test_what_an_error_after_the_content_went_out_means(error, status):
    assert outcome_of(error, content_sent=True).status == status


@pytest.mark.parametrize("security, user, steps", [("none", None, 9), ("starttls", "desk", 14), ("tls", "desk", 12)])
def test_the_send_lease_covers_every_step_of_the_conversation_at_its_timeout(security, user, steps):
    server = SmtpServer("smtp.example", 587, security, user, timeout=20.0)
    assert server.conversation_steps() == steps and server.send_lease() == steps * 20 + 10


def email(**changes) -> OutgoingEmail:
    values = dict(id=7, ref="DC-7K4M2Q", name="Maria Rossi", kind="reply", language="it", address="maria@example.org",
                  body="Testo", follow_up_url="https://desk.example/seguito/TOKEN", first_email_id=3)
    values.update(changes)
    return OutgoingEmail(**values)


def test_a_link_email_carries_the_link_and_no_operator_text():
    message = compose(email(kind="link", body="", language="en"), SENDER)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert message["Subject"] == "[DC-7K4M2Q] The link to follow your request"
    assert "https://desk.example/seguito/TOKEN" in text and "you asked for the link" in text
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] == "<dialoga.DC-7K4M2Q@dialoga.example>"


def test_the_html_part_escapes_the_operators_text_and_loads_nothing_remote():
    message = compose(email(body='<img src="https://tracker.example/p.gif"> & <a href="https://x">x</a>'), SENDER)
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<img" not in html and "&lt;img" in html and "&amp;" in html
    assert not re.search(r"<[^>]*\ssrc=", html) and len(re.findall(r"<a\s", html)) == 1


def test_the_thread_domain_comes_from_the_senders_address():
    assert mail_domain("Sportello <sportello@dialoga.example>") == "dialoga.example"
    assert mail_domain("nobody") == "dialoga.invalid"
