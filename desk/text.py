"""User text as the desk stores it."""
import re

# C0 control characters (but tab and newline) and DEL: terminals' escape codes
# and NUL bytes have no place in a message, and PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> str:
    return _CONTROL.sub("", text or "")
