"""How a person is named in an access or erasure request, and where that name appears.

Pure functions: parsing what an administrator typed, the assistant's conversation ids it
stands for, and whether a stored Telegram update concerns it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, FrozenSet, Iterable, Set

from desk.contact import parse_contact

TELEGRAM_CHAT_ID = re.compile(r"^-?\d{1,20}$")
WIDGET_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,200}$")
# Keys of a Telegram update whose object's "id" is a chat or a user.
TELEGRAM_PARTY_KEYS = frozenset({"chat", "from", "user", "sender_chat"})


class IdentityKind(str, Enum):
    CONTACT = "contact"  # the e-mail address or phone number left on the ticket form
    TELEGRAM = "telegram"  # a Telegram chat id
    WIDGET = "widget"  # a web widget conversation id


IDENTITY_LABELS = {
    IdentityKind.CONTACT: "Email o telefono",
    IdentityKind.TELEGRAM: "Chat Telegram (id numerico)",
    IdentityKind.WIDGET: "Conversazione della chat del sito (id)",
}


class InvalidIdentity(ValueError):
    pass


@dataclass(frozen=True)
class Identity:
    kind: IdentityKind
    value: str  # normalised: an e-mail as validated, a phone in E.164, an id as typed

    @property
    def sender_ids(self) -> FrozenSet[str]:
        """The assistant's conversation ids this identity has for sure (desk.services.conversations)."""
        if self.kind is IdentityKind.CONTACT:
            return frozenset()
        return frozenset({f"{self.kind.value}-{self.value}"})

    @property
    def channel_address(self):
        """(channel, address) where the desk replies to this identity, if it is a chat."""
        if self.kind is IdentityKind.CONTACT:
            return None
        return self.kind.value, self.value


def parse_identity(kind: str, raw: str) -> Identity:
    try:
        identity_kind = IdentityKind(kind)
    except ValueError as error:
        raise InvalidIdentity(f"unknown kind of identity {kind!r}") from error
    text = (raw or "").strip()
    if identity_kind is IdentityKind.CONTACT:
        contact = parse_contact(text)
        if contact is None:
            raise InvalidIdentity("not an e-mail address or a phone number")
        value = contact.value.lower() if contact.kind == "email" else contact.value
        return Identity(identity_kind, value)
    if identity_kind is IdentityKind.TELEGRAM:
        text = text.removeprefix("telegram-")
        if not TELEGRAM_CHAT_ID.match(text):
            raise InvalidIdentity("a Telegram chat id is a number")
        return Identity(identity_kind, text)
    text = text.removeprefix("widget-")
    if not WIDGET_SESSION_ID.match(text):
        raise InvalidIdentity("a widget conversation id is 8 to 200 letters, digits, - or _")
    return Identity(identity_kind, text)


def telegram_parties(payload: Any) -> Set[str]:
    """Every chat and user id in a Telegram update (message, edited message, button press...)."""
    found: Set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            if key in TELEGRAM_PARTY_KEYS and "id" in node:
                found.add(str(node["id"]))
            for child_key, child in node.items():
                walk(child, child_key)
        elif isinstance(node, list):
            for child in node:
                walk(child, key)

    walk(payload)
    return found


def update_concerns(payload: Any, chat_ids: Iterable[str]) -> bool:
    return bool(telegram_parties(payload) & set(chat_ids))


def texts_match(text: str, candidates: Iterable[str]) -> bool:
    """Whether a stored text is one of the person's texts (spacing and case aside)."""
    normalised = " ".join((text or "").split()).casefold()
    return bool(normalised) and normalised in {" ".join(c.split()).casefold() for c in candidates if c}
