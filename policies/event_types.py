"""Rasa's `Event.resolve_by_type` (event name -> event class), looked up once per name.

Rasa 3.6 restores the tracker from its store on every user message and turns each stored event
back into an object; for each one, `Event.resolve_by_type` walks the whole tree of event classes
again (`all_subclasses`, with an `inspect.isabstract` check per class). Profiling the Rasa server
under `bench.run --only cpu` (BENCHMARKS.md "cpu") showed that walk taking about a sixth of its time
in a 150-message conversation.

The answer only changes when a new event class is defined: this keeps the answers per name and
forgets them whenever a subclass of Event is created (`__init_subclass__`), so the result is always
the one Rasa's walk would give now."""
from __future__ import annotations

from typing import Any, Dict, Optional, Text, Type

from rasa.shared.core.events import Event

ORIGINAL = Event.resolve_by_type
_FOUND: Dict[Text, Type[Event]] = {}


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Returns the event class of this type name (as Rasa's method)."""
    found = _FOUND.get(type_name)
    if found is not None:
        return found
    # Rasa's answer, with its fallbacks (old "topic" events, default, unknown name); only a class
    # that is a match by name is kept.
    result = ORIGINAL(type_name, default)
    if result is not None and result is not default and result.type_name == type_name:
        _FOUND[type_name] = result
    return result


def _forget(cls: type, **kwargs: Any) -> None:
    _FOUND.clear()


def install() -> None:
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
    Event.__init_subclass__ = classmethod(_forget)  # type: ignore[assignment]


__all__ = ["ORIGINAL", "install", "resolve_by_type"]
