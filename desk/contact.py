"""Validate and normalise the contact a user leaves for the reply (kept libraries:
email-validator and phonenumbers)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import phonenumbers
from email_validator import EmailNotValidError, validate_email


@dataclass(frozen=True)
class Contact:
    kind: str   # email | phone | channel
    value: str


def parse_contact(text: str) -> Optional[Contact]:
    text = (text or "").strip()
    if "@" in text:
        try:
            return Contact("email", validate_email(text, check_deliverability=False).normalized)
        except EmailNotValidError:
            return None
    try:
        number = phonenumbers.parse(text, "IT")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return Contact("phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
