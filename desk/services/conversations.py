"""The one way channels talk to the assistant: a message from a user of a channel goes
to the assistant's REST channel with the metadata the actions need (the channel, the
address to reply to, a language hint) and comes back as a list of messages.

Handoff to an operator is decided inside the assistant (policies/handoff.py): while an
operator handles the user's ticket, the assistant attaches the message to the ticket
and stays quiet, so every channel gets the same behaviour by calling `route`."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional

import httpx

from desk.text import printable, user_text
from desk.ops.request_context import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger(__name__)

REST_WEBHOOK = "/webhooks/rest/webhook"
# Commands users type in any channel, as the assistant's intents.
COMMAND_ALIASES = {"/bot": "/back_to_bot"}

_UNAVAILABLE = {
    "it": "L'assistente non è raggiungibile in questo momento. Riprova tra qualche minuto: "
          "la tua domanda non è andata persa se la riscrivi.",
    "en": "The assistant cannot be reached right now. Please try again in a few minutes.",
}


class AssistantUnavailable(RuntimeError):
    """The assistant did not answer (down, too slow, or answered with an error)."""


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # "telegram", "widget"
    address: str  # where the desk can reach the user back on that channel
    text: str
    language_hint: Optional[str] = None  # e.g. the Telegram client's or the page's language
    # A pseudonymous key for the client behind several conversations (the widget: its address),
    # so that limits that matter across conversations (ticket lookups) can count it.
    client: Optional[str] = None
    request_id: Optional[str] = None  # follows the message into Rasa's metadata and the actions' logs
    # The client's idempotency key for this message, the same when the client sends it again
    # (the widget's, a Telegram update id): what it creates (a rating) is created once.
    message_key: Optional[str] = None

    @property
    def sender_id(self) -> str:
        """The assistant's conversation id: stable per user of a channel."""
        return f"{self.channel}-{printable(self.address)}"

    def payload(self) -> Dict[str, Any]:
        metadata: Dict[str, Any] = {"channel": self.channel, "reply_address": printable(self.address)}
        if self.language_hint:
            metadata["language"] = printable(self.language_hint)
        if self.client:
            metadata["client"] = self.client
        if self.request_id:
            metadata["request_id"] = self.request_id
        if self.message_key:
            metadata["message_key"] = printable(self.message_key)[:200]
        # Cleaned once here, on the way in, for every channel (desk.text.user_text).
        text = user_text(self.text)
        text = COMMAND_ALIASES.get(text.lower(), text)
        return {"sender": self.sender_id, "message": text, "metadata": metadata}


def unavailable_text(language: Optional[str]) -> str:
    return _UNAVAILABLE.get(language or "it", _UNAVAILABLE["it"])


def _messages_of(response: httpx.Response) -> List[Dict[str, Any]]:
    if response.status_code >= 400:
        raise AssistantUnavailable(f"the assistant answered HTTP {response.status_code}")
    try:
        messages = response.json()
    except ValueError as error:
        raise AssistantUnavailable("the assistant answered something that is not JSON") from error
    if not isinstance(messages, list):
        raise AssistantUnavailable("the assistant's answer is not a list of messages")
    return messages


def _with_request_id(message: InboundMessage) -> InboundMessage:
    return message if message.request_id else replace(message, request_id=current_request_id())


def _headers(message: InboundMessage) -> Dict[str, str]:
    return {REQUEST_ID_HEADER: message.request_id} if message.request_id else {}


# Rasa answers HTTP 200 with the messages it has even when a custom action failed, so a message
# handled while every action server is down comes back empty, like a message the assistant
# rightly leaves unanswered (an operator is handling the user's ticket). With the action servers'
# address configured, an empty answer is checked against their health.
ACTIONS_HEALTH_TIMEOUT = 2.0


def _actions_down(health: Optional[httpx.Response]) -> bool:
    return health is None or health.status_code != 200


class AssistantClient:
    """Synchronous client, for the desk's web views (the widget endpoints)."""

    def __init__(self, base_url: str, timeout: float = 30.0, client: Optional[httpx.Client] = None,
                 actions_url: Optional[str] = None) -> None:
        self._url = base_url.rstrip("/") + REST_WEBHOOK
        self._client = client or httpx.Client(timeout=timeout)
        self._actions_health = f"{actions_url.rstrip('/')}/health" if actions_url else None

    def route(self, message: InboundMessage) -> List[Dict[str, Any]]:
        message = _with_request_id(message)
        try:
            messages = _messages_of(self._client.post(self._url, json=message.payload(), headers=_headers(message)))
        except httpx.HTTPError as error:
            raise AssistantUnavailable(str(error) or type(error).__name__) from error
        if not messages and self._actions_health:
            try:
                health = self._client.get(self._actions_health, timeout=ACTIONS_HEALTH_TIMEOUT)
            except httpx.HTTPError:
                health = None
            if _actions_down(health):
                log.warning("the assistant answered nothing and its action servers are down")
                raise AssistantUnavailable("the action servers are down")
        return messages

    def close(self) -> None:
        self._client.close()


class AsyncAssistantClient:
    """Asynchronous client, for the Telegram gateway's event loop."""

    def __init__(self, base_url: str, timeout: float = 30.0, client: Optional[httpx.AsyncClient] = None,
                 actions_url: Optional[str] = None) -> None:
        self._url = base_url.rstrip("/") + REST_WEBHOOK
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._actions_health = f"{actions_url.rstrip('/')}/health" if actions_url else None

    async def route(self, message: InboundMessage) -> List[Dict[str, Any]]:
        message = _with_request_id(message)
        try:
            messages = _messages_of(
                await self._client.post(self._url, json=message.payload(), headers=_headers(message))
            )
        except httpx.HTTPError as error:
            raise AssistantUnavailable(str(error) or type(error).__name__) from error
        if not messages and self._actions_health:
            try:
                health = await self._client.get(self._actions_health, timeout=ACTIONS_HEALTH_TIMEOUT)
            except httpx.HTTPError:
                health = None
            if _actions_down(health):
                log.warning("the assistant answered nothing and its action servers are down")
                raise AssistantUnavailable("the action servers are down")
        return messages

    async def close(self) -> None:
        await self._client.aclose()
