"""Reading typed values out of submitted forms, shared by the desk's editors."""
from __future__ import annotations

from typing import Any, Optional


def int_or_none(value: Any) -> Optional[int]:
    """The form value as an integer, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
