"""Small checks shared by the services that take operators' input."""
from urllib.parse import urlsplit


def is_web_url(value: str) -> bool:
    """An absolute http(s) address with a host: what a chat user can open."""
    try:
        parts = urlsplit((value or "").strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value.strip()
