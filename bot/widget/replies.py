"""The assistant's replies shaped for the widget: one message per text, with its buttons
and what `custom` says about it (source, verified date, topic, clarify, escalation, ticket)."""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Optional

from desk.answer_format import answer_text, format_date

LANGUAGES = ("it", "en")
FEEDBACK_PAYLOADS = {"/feedback_helpful": "helpful", "/feedback_not_helpful": "not_helpful"}
_WEB_ADDRESS = re.compile(r"^https?://[^\s]+$")
# The assistant's own sentences are well formed: their function words tell Italian from English
# (knowledge answers say their language in `custom`; offers and form questions do not).
_FUNCTION_WORDS = {
    "it": frozenset("il lo la le gli di da in con su per che non una uno un sono sei ti mi ci del della alla "
                    "nel questa questo vuoi puoi come se è".split()),
    "en": frozenset("the a an and of to in on for that not you your are is it this with can would please "
                    "what how i me my we our".split()),
}
_WORDS = re.compile(r"[^\W\d_]+|è", re.UNICODE)


def widget_messages(replies: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Rasa's REST channel sends a message's `custom` object as a separate message right after
    its text; the widget wants one message with text, buttons and what `custom` says about it."""
    shaped: List[Dict[str, Any]] = []
    for reply in replies:
        text = reply.get("text")
        if isinstance(text, str) and text.strip():
            shaped.append({"text": text, "buttons": _buttons(reply.get("buttons"))})
        custom = reply.get("custom")
        if isinstance(custom, dict) and custom:
            if not shaped:
                shaped.append({"text": "", "buttons": []})
            _apply_custom(shaped[-1], custom)
    shaped = [message for message in shaped if message["text"] or message["buttons"]]
    for message in shaped:
        if "language" not in message:
            language = language_of_reply(message["text"])
            if language:
                message["language"] = language
    return shaped


def language_of_reply(text: str) -> Optional[str]:
    """Italian or English when the function words of the assistant's text clearly say which."""
    words = [word.lower() for word in _WORDS.findall(text)]
    votes = {language: sum(word in vocabulary for word in words) for language, vocabulary in _FUNCTION_WORDS.items()}
    if votes["it"] >= votes["en"] + 3:
        return "it"
    if votes["en"] >= votes["it"] + 3:
        return "en"
    return None


def _buttons(buttons: Any) -> List[Dict[str, str]]:
    shaped = []
    for button in buttons if isinstance(buttons, list) else []:
        if not isinstance(button, dict):
            continue
        title, payload = str(button.get("title") or ""), str(button.get("payload") or "")
        if title and payload:
            item = {"title": title, "payload": payload}
            if payload in FEEDBACK_PAYLOADS:
                item["feedback"] = FEEDBACK_PAYLOADS[payload]
            shaped.append(item)
    return shaped


def _apply_custom(message: Dict[str, Any], custom: Dict[str, Any]) -> None:
    if custom.get("source"):
        message["source"] = str(custom["source"])
        url = str(custom.get("source_url") or "")
        if _WEB_ADDRESS.match(url):
            message["source_url"] = url
        if custom.get("verified_on"):
            message["verified_on"] = str(custom["verified_on"])
        message["text"] = without_source_lines(message["text"], custom)
    if custom.get("topic"):
        message["topic"] = str(custom["topic"])
    if custom.get("language") in LANGUAGES:
        message["language"] = custom["language"]
    clarify = custom.get("clarify")
    if isinstance(clarify, list) and clarify:
        message["clarify"] = [str(topic) for topic in clarify]
    if custom.get("escalation"):
        message["escalation"] = str(custom["escalation"])
        if custom.get("asks"):
            message["asks"] = str(custom["asks"])
    subscription = custom.get("subscription")
    if isinstance(subscription, dict) and subscription.get("status") in ("active", "cancelled"):
        message["subscription"] = {"topic": str(subscription.get("topic") or ""), "status": subscription["status"]}
    ticket = custom.get("ticket")
    if isinstance(ticket, dict) and ticket.get("ref"):
        message["ticket"] = {"ref": str(ticket["ref"]), "status": str(ticket.get("status") or "")}


def without_source_lines(text: str, custom: Dict[str, Any]) -> str:
    """The answer text names its source and date in words (desk.answer_format); the widget
    shows them in a line of its own under the answer, so they are taken out of the text."""
    source = str(custom["source"]) + (f" — {custom['source_url']}" if custom.get("source_url") else "")
    try:
        verified = date.fromisoformat(str(custom.get("verified_on")))
    except ValueError:
        verified = None
    for language in LANGUAGES:
        lines = [answer_text("source_line", language, source=source)]
        if verified is not None:
            lines.append(answer_text("verified_line", language, date=format_date(verified, language)))
        for line in ("\n".join(lines), *lines):
            text = text.replace(line, "")
    return re.sub(r"\n{3,}", "\n\n", text).strip()
