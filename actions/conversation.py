"""Small readers of the tracker shared by the actions."""
from __future__ import annotations

from typing import Any, Dict, Optional

from rasa_sdk import Tracker

from desk.language import DEFAULT_LANGUAGE
from desk.text import user_text
from desk.topics import load_topics


def language_of(tracker: Tracker) -> str:
    return tracker.get_slot("language") or DEFAULT_LANGUAGE


def channel_of(tracker: Tracker) -> str:
    metadata = latest_metadata(tracker)
    return str(metadata.get("channel") or tracker.get_latest_input_channel() or "rest")[:40]


def latest_metadata(tracker: Tracker) -> Dict[str, Any]:
    return tracker.latest_message.get("metadata") or {}


def latest_text(tracker: Tracker) -> str:
    return user_text(tracker.latest_message.get("text") or "")


def pressed_a_button(tracker: Tracker) -> bool:
    """The latest message is a button's payload ("/check_congedo_parentale"), not typed words."""
    return latest_text(tracker).lstrip().startswith("/")


def latest_intent(tracker: Tracker) -> Dict[str, Any]:
    return tracker.latest_message.get("intent") or {}


def topic_asked(tracker: Tracker) -> Optional[str]:
    """The topic of the latest message when its intent is one of the topics."""
    name = latest_intent(tracker).get("name")
    return name if name in load_topics() else None
