"""Small checks shared by the services that take operators' input."""
from typing import Dict
from urllib.parse import urlsplit


class InvalidFields(ValueError):
    """Operator input refused, with a message per field for the form to show."""

    def __init__(self, errors: Dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


def is_web_url(value: str) -> bool:
    """An absolute http(s) address with a host: what a chat user can open."""
    try:
        parts = urlsplit((value or "").strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value.strip()
