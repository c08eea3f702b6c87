"""Checks every process runs before it starts serving: refuse a guessable secret key outside
development, warn about cookies that would travel in clear text. Pure functions of Settings."""
from __future__ import annotations

from typing import List, Optional

from desk.config import DEVELOPMENT_SECRET_KEY, Settings

MIN_SECRET_KEY_LENGTH = 32
HOW_TO_FIX = (
    "set DIALOGA_SECRET_KEY to a random value of at least {length} characters, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, or DIALOGA_ENV=development on a "
    "development machine"
)


class UnsafeConfiguration(RuntimeError):
    """The process must not start with this configuration."""


def secret_key_problem(settings: Settings) -> Optional[str]:
    """Why the secret key is unfit outside development (anyone who knows it can forge desk
    sessions and widget tokens), or None."""
    if settings.environment == "development":
        return None
    how_to_fix = HOW_TO_FIX.format(length=MIN_SECRET_KEY_LENGTH)
    if settings.secret_key == DEVELOPMENT_SECRET_KEY:
        return f"DIALOGA_SECRET_KEY is the public development value: {how_to_fix}"
    if len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        return f"DIALOGA_SECRET_KEY has fewer than {MIN_SECRET_KEY_LENGTH} characters: {how_to_fix}"
    return None


def require_safe_secret(settings: Settings, process: str) -> None:
    problem = secret_key_problem(settings)
    if problem:
        raise UnsafeConfiguration(f"the {process} refuses to start: {problem}")


def cookie_warnings(settings: Settings) -> List[str]:
    if settings.public_url.lower().startswith("https://") and not settings.secure_cookies:
        return [
            f"DIALOGA_PUBLIC_URL is {settings.public_url} but DIALOGA_SECURE_COOKIES is off: desk session "
            "cookies would also travel over plain HTTP; set DIALOGA_SECURE_COOKIES=true"
        ]
    return []
