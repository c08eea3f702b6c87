"""The assistant's replies as Telegram messages.

Everything is sent in HTML parse mode with every piece of user or knowledge-base text
escaped, so that nothing a user or an editor writes can become markup; the only markup
added is <code> around ticket references (easy to copy). Texts longer than Telegram's
4096 characters are split on paragraph, then line, then word boundaries."""
from __future__ import annotations

import hashlib
import html
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_MESSAGE_CHARS = 4096
MAX_CALLBACK_BYTES = 64
# Payloads too long for callback_data are sent as this prefix and a digest of the payload.
LONG_PAYLOAD_PREFIX = "#p:"
_REFERENCE = re.compile(r"\bDC-[0-9A-Z]{6}\b")


@dataclass
class OutgoingMessage:
    """One Telegram message: HTML text and, on the last part of a reply, its buttons."""

    html: str
    keyboard: Optional[InlineKeyboardMarkup] = None


@dataclass
class PayloadMap:
    """callback_data -> payload for payloads longer than Telegram's 64 bytes. In memory and
    bounded: a button pressed after a restart (or very late) is reported as expired."""

    capacity: int = 5000
    _payloads: "OrderedDict[str, str]" = field(default_factory=OrderedDict)

    def callback_data(self, payload: str) -> str:
        if len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES and not payload.startswith(LONG_PAYLOAD_PREFIX):
            return payload
        key = LONG_PAYLOAD_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self.capacity:
            self._payloads.popitem(last=False)
        return key

    def payload(self, callback_data: str) -> Optional[str]:
        """The payload a button stands for, or None when it is no longer known."""
        if not callback_data.startswith(LONG_PAYLOAD_PREFIX):
            return callback_data
        return self._payloads.get(callback_data)


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> List[str]:
    """Parts of at most `limit` characters, cut at the last paragraph break, else line
    break, else space before the limit (a hard cut only inside one very long word)."""
    text = text.strip()
    parts: List[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator, 0, limit + 1)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            parts.append(head)
    if text:
        parts.append(text)
    return parts


def to_html(text: str) -> str:
    """Plain text as safe Telegram HTML, ticket references in <code>."""
    return _REFERENCE.sub(lambda match: f"<code>{match.group(0)}</code>", html.escape(text, quote=False))


def keyboard_of(buttons: Iterable[Dict[str, Any]], payloads: PayloadMap) -> Optional[InlineKeyboardMarkup]:
    """One button per row (titles are sentences, e.g. "Parla con una persona")."""
    rows = []
    for button in buttons:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or title).strip()
        if not title or not payload:
            continue
        rows.append([InlineKeyboardButton(title[:64], callback_data=payloads.callback_data(payload))])
    return InlineKeyboardMarkup(rows) if rows else None


def render_replies(replies: Iterable[Dict[str, Any]], payloads: PayloadMap) -> List[OutgoingMessage]:
    """The assistant's reply list as Telegram messages. `custom` objects are the machine
    layer (topic, escalation, ticket): what the user needs of them (source, date,
    reference) is already in the text, so they are not shown."""
    messages: List[OutgoingMessage] = []
    for reply in replies:
        text = str(reply.get("text") or "").strip()
        keyboard = keyboard_of(reply.get("buttons") or [], payloads)
        if not text and keyboard is None:
            if reply.get("image"):
                text = str(reply["image"])
            else:
                continue
        parts = split_text(text) or ["⬇️"]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            messages.append(OutgoingMessage(to_html(part), keyboard if last else None))
    return messages


def render_text(text: str) -> List[OutgoingMessage]:
    return [OutgoingMessage(to_html(part)) for part in split_text(text)]
