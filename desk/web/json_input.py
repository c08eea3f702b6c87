"""JSON request bodies from the public (the widget, Telegram's webhook), read defensively.

Flask's get_json(silent=True) only catches ValueError: a body of 100,000 `[` overflows
the parser's recursion (RecursionError), and a lone surrogate escape ("\\ud800") decodes
into a string that cannot be stored or encoded. Here every failure is one exception, the
callers answer it with a 4xx, and strings come back without control, format or
non-characters (desk.text.printable)."""
from __future__ import annotations

import json
import math
from typing import Any, Dict

from flask import request

from desk.text import printable

# Deep enough for every real payload (a Telegram update nests about 6 levels).
MAX_DEPTH = 32


class MalformedBody(ValueError):
    """The body is not a JSON object the endpoint can use."""


def json_object(max_depth: int = MAX_DEPTH) -> Dict[str, Any]:
    """The request's body as a JSON object with cleaned strings, or MalformedBody."""
    raw = request.get_data(cache=True)
    if not raw:
        raise MalformedBody("empty body")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise MalformedBody(f"not JSON: {type(error).__name__}") from None
    if not isinstance(value, dict):
        raise MalformedBody("not a JSON object")
    return _cleaned(value, max_depth)


def _cleaned(value: Any, depth_left: int) -> Any:
    if depth_left < 0:
        raise MalformedBody("nested too deeply")
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [_cleaned(item, depth_left - 1) for item in value]
    if isinstance(value, dict):
        return {printable(key): _cleaned(item, depth_left - 1) for key, item in value.items()}
    if isinstance(value, float) and not math.isfinite(value):  # NaN, Infinity: not JSON once stored
        raise MalformedBody("not a finite number")
    return value
