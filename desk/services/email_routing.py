"""When a message to a user also goes by e-mail: pure rules, no database.

A ticket keeps the channel the user came from (Telegram, the widget, REST); e-mail is an
extra way to reach them when the ticket's contact is an e-mail address:

- on Telegram or REST the user chose e-mail over "answer me here", so every message to them
  also goes by e-mail at once;
- on the widget the reply first waits in the chat, where a user still on the page reads it at
  once; only when it is still unread after DIALOGA_EMAIL_AFTER_UNREAD_MINUTES (the user left)
  does it go by e-mail too.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

EMAIL_CHANNEL = "email"
WIDGET_CHANNEL = "widget"
# A user who asks for a fresh follow-up link gets at most one e-mail per ticket in this time,
# so that anyone who knows a reference cannot flood its owner's mailbox.
LINK_REQUEST_INTERVAL = timedelta(minutes=10)


def has_email(contact_kind: str) -> bool:
    return contact_kind == "email"


def email_at_once(channel: str, contact_kind: str) -> bool:
    """Whether a message queued for the user's channel is also queued by e-mail right away."""
    return has_email(contact_kind) and channel not in (WIDGET_CHANNEL, EMAIL_CHANNEL)


def email_if_unread(channel: str, contact_kind: str) -> bool:
    """Whether a chat message left unread becomes an e-mail after the configured delay."""
    return has_email(contact_kind) and channel == WIDGET_CHANNEL


def unread_since(now: datetime, after_minutes: int) -> datetime:
    """Widget messages queued before this moment and still unread have waited long enough."""
    return now - timedelta(minutes=max(0, after_minutes))


def may_send_link(last_link_at: Optional[datetime], now: datetime) -> bool:
    return last_link_at is None or now - last_link_at >= LINK_REQUEST_INTERVAL
