"""One outbox message as the e-mail the user receives.

Multipart plain text + HTML from Jinja2 templates (HTML autoescaped), in the ticket's
language. The subject carries the reference; Reply-To is the desk's mailbox. The ticket's
first e-mail has the Message-ID <dialoga.REF@domain>, and every later one answers it
(In-Reply-To and References), so mail clients keep a ticket's e-mails in one thread. No
images, nothing remote, no tracking: the one link is the ticket's follow-up page.

An update notice (a topic's rules changed) belongs to no ticket: its e-mail (NoticeEmail,
templates notice.*) has the topic in the subject, the new answer's first lines with the source,
and an unsubscribe link, also as List-Unsubscribe with one-click (RFC 8058)."""
from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from datetime import timezone
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.email.texts import say
from desk.models import OutboundKind
from desk.models.base import utcnow

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class OutgoingEmail:
    """What is needed to write one outbox e-mail, read in a short transaction."""

    id: int
    ref: str
    name: str
    kind: str
    language: str
    address: str
    body: str
    follow_up_url: str
    first_email_id: int  # the ticket's first e-mail: the root of its thread


@dataclass(frozen=True)
class NoticeEmail:
    """An update notice to a subscriber's e-mail address."""

    id: int
    language: str
    address: str
    title: str  # the topic, in the subscriber's language
    body: str  # the new answer's first lines and the source (desk.services.update_notices)
    unsubscribe_url: str


@dataclass(frozen=True)
class Sender:
    from_address: str
    reply_to: Optional[str]
    link_days: int


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def mail_domain(address: str) -> str:
    _, email = parseaddr(address)
    local, at, domain = email.rpartition("@")
    return domain if at and domain else "dialoga.invalid"


def thread_id(ref: str, domain: str) -> str:
    return f"<dialoga.{ref}@{domain}>"


def message_id(email: OutgoingEmail, domain: str) -> str:
    if email.id == email.first_email_id:
        return thread_id(email.ref, domain)
    return f"<dialoga.{email.ref}.{email.id}@{domain}>"


def _kind(email: OutgoingEmail) -> str:
    known = {OutboundKind.REPLY.value, OutboundKind.RESOLVED.value, OutboundKind.LINK.value}
    return email.kind if email.kind in known else OutboundKind.REPLY.value


def content_of(email: OutgoingEmail, sender: Sender) -> dict:
    """What the templates show, in the user's language."""
    language, kind = email.language, _kind(email)
    name = (email.name or "").strip()
    return {
        "language": language if language in ("it", "en") else "it",
        "greeting": say("greeting", language, name=name) if name else say("greeting_anonymous", language),
        "intro": say(f"intro_{kind}", language, ref=email.ref),
        # The operator's own words; notices say what they need in the intro.
        "body": email.body if kind == OutboundKind.REPLY.value else "",
        "follow_up": say("follow_up", language, days=sender.link_days),
        "follow_up_button": say("follow_up_button", language),
        "follow_up_url": email.follow_up_url,
        "signature": say("signature", language),
        "why": say("why", language, ref=email.ref),
        "stop": say("stop", language),
    }


def notice_content_of(email: NoticeEmail) -> dict:
    language = email.language if email.language in ("it", "en") else "it"
    return {
        "language": language,
        "greeting": say("greeting_anonymous", language),
        "intro": say("intro_update_notice", language, title=email.title),
        "body": email.body,
        "unsubscribe": say("unsubscribe", language),
        "unsubscribe_button": say("unsubscribe_button", language),
        "unsubscribe_url": email.unsubscribe_url,
        "signature": say("signature", language),
        "why": say("why_update_notice", language, title=email.title),
    }


def compose_notice(email: NoticeEmail, sender: Sender) -> EmailMessage:
    content = notice_content_of(email)
    domain = mail_domain(sender.from_address)
    message = EmailMessage()
    message["Subject"] = say("subject_update_notice", email.language, title=email.title)
    message["From"] = sender.from_address
    message["To"] = email.address
    message["Reply-To"] = sender.reply_to or sender.from_address
    message["Date"] = format_datetime(utcnow().replace(tzinfo=timezone.utc))
    message["Message-ID"] = f"<dialoga.notice.{email.id}@{domain}>"
    message["Content-Language"] = content["language"]
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_templates().get_template("notice.txt").render(**content))
    message.add_alternative(_templates().get_template("notice.html").render(**content), subtype="html")
    return message


def compose(email: OutgoingEmail, sender: Sender) -> EmailMessage:
    if isinstance(email, NoticeEmail):
        return compose_notice(email, sender)
    content = content_of(email, sender)
    domain = mail_domain(sender.from_address)
    message = EmailMessage()
    message["Subject"] = say(f"subject_{_kind(email)}", email.language, ref=email.ref)
    message["From"] = sender.from_address
    message["To"] = email.address
    message["Reply-To"] = sender.reply_to or sender.from_address
    message["Date"] = format_datetime(utcnow().replace(tzinfo=timezone.utc))
    message["Message-ID"] = message_id(email, domain)
    if email.id != email.first_email_id:
        message["In-Reply-To"] = thread_id(email.ref, domain)
        message["References"] = thread_id(email.ref, domain)
    message["Content-Language"] = content["language"]
    if _kind(email) != OutboundKind.REPLY.value:
        message["Auto-Submitted"] = "auto-generated"  # no out-of-office answers to notices
    message.set_content(_templates().get_template("message.txt").render(**content))
    message.add_alternative(_templates().get_template("message.html").render(**content), subtype="html")
    return message
