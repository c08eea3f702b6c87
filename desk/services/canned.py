"""Canned replies: supervisors write and retire them, operators insert them in replies.

A reply is never deleted, only deactivated, so that the texts the desk has used stay known."""
from __future__ import annotations

from typing import List, Optional

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from desk.models import CannedReply
from desk.models.base import utcnow
from desk.models.tickets import LANGUAGES

MAX_TITLE = 200
MAX_BODY = 5000
# Placeholders filled in when an operator inserts the reply in a ticket.
PLACEHOLDERS = {"{nome}": "the user's name", "{riferimento}": "the ticket's reference"}


class InvalidCannedReply(ValueError):
    pass


def list_replies(session: Session, include_inactive: bool = False) -> List[CannedReply]:
    statement = select(CannedReply).order_by(CannedReply.active.desc(), CannedReply.language, CannedReply.title)
    if not include_inactive:
        statement = statement.where(CannedReply.active.is_(True))
    return list(session.scalars(statement))


def replies_for(session: Session, language: str) -> List[CannedReply]:
    """Active replies for the composer: the ticket's language first."""
    first = case((CannedReply.language == language, 0), else_=1)
    return list(session.scalars(
        select(CannedReply).where(CannedReply.active.is_(True)).order_by(first, CannedReply.title)
    ))


def get(session: Session, reply_id: int) -> Optional[CannedReply]:
    return session.get(CannedReply, reply_id)


def create(session: Session, title: str, body: str, language: str, author: str) -> CannedReply:
    title, body, language = _checked(title, body, language)
    now = utcnow()
    reply = CannedReply(title=title, body=body, language=language, active=True,
                        created_by=author, created_at=now, updated_by=author, updated_at=now)
    session.add(reply)
    session.flush()
    return reply


def update(session: Session, reply: CannedReply, title: str, body: str, language: str, author: str) -> CannedReply:
    reply.title, reply.body, reply.language = _checked(title, body, language)
    _touch(reply, author)
    session.flush()
    return reply


def set_active(session: Session, reply: CannedReply, active: bool, author: str) -> CannedReply:
    reply.active = active
    _touch(reply, author)
    session.flush()
    return reply


def fill(body: str, name: str, ref: str) -> str:
    """The reply with its placeholders filled for one ticket (plain replacement, no formatting
    language: a stray brace in the text stays as it is)."""
    return body.replace("{nome}", name).replace("{riferimento}", ref)


def _touch(reply: CannedReply, author: str) -> None:
    reply.updated_by = author
    reply.updated_at = utcnow()


def _checked(title: str, body: str, language: str):
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise InvalidCannedReply("a canned reply needs a title and a text")
    if len(title) > MAX_TITLE or len(body) > MAX_BODY:
        raise InvalidCannedReply(f"title up to {MAX_TITLE} characters, text up to {MAX_BODY}")
    if language not in LANGUAGES:
        raise InvalidCannedReply(f"language must be one of {', '.join(LANGUAGES)}")
    return title, body, language
