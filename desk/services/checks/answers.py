"""Reading the user's answers: dates, numbers, amounts, yes/no, in Italian and English.

Each reader returns a normalised, JSON-friendly value (an ISO date, a decimal
string, True/False) or raises InvalidAnswer with the key of the re-ask text
(desk/services/checks/texts.py)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Optional


class InvalidAnswer(ValueError):
    def __init__(self, key: str, **values: Any):
        super().__init__(key)
        self.key, self.values = key, values


MONTHS = {
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
    "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}
NUMBER_WORDS = {
    "zero": 0, "nessuno": 0, "nessuna": 0, "niente": 0, "none": 0, "nothing": 0, "nil": 0,
    "uno": 1, "un": 1, "una": 1, "one": 1, "due": 2, "two": 2, "tre": 3, "three": 3,
    "quattro": 4, "four": 4, "cinque": 5, "five": 5, "sei": 6, "six": 6, "sette": 7, "seven": 7,
    "otto": 8, "eight": 8, "nove": 9, "nine": 9, "dieci": 10, "ten": 10, "undici": 11, "eleven": 11,
    "dodici": 12, "twelve": 12, "tredici": 13, "thirteen": 13,
}
YES = ("/affirm", "si", "sì", "yes", "y", "certo", "esatto", "yep", "sure", "ovviamente", "of course", "correct")
NO = ("/deny", "no", "nope", "non", "not", "negativo")


def plain(text: str) -> str:
    """Lower case, accents removed, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", str(text or "").strip().lower())
    return " ".join("".join(char for char in decomposed if not unicodedata.combining(char)).split())


def read_date(text: str) -> date:
    """15/03/2024, 15-3-24, 15.03.2024, 2024-03-15, 15 marzo 2024, March 15 2024."""
    value = plain(text).replace(",", " ")
    found = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", value)
    if found:
        year, month, day = (int(part) for part in found.groups())
        return _date(year, month, day)
    found = re.search(r"\b(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})\b", value)
    if found:
        day, month, year = (int(part) for part in found.groups())
        return _date(year + 2000 if year < 100 else year, month, day)
    words = value.split()
    for index, word in enumerate(words):
        month = MONTHS.get(word)
        if month is None:
            continue
        before = words[index - 1] if index else ""
        after = words[index + 1:index + 3]
        day = re.sub(r"(st|nd|rd|th)$", "", before) if before else ""
        if not day.isdigit() and after:
            day = re.sub(r"(st|nd|rd|th)$", "", after[0])
            after = after[1:]
        year = next((item for item in after if re.fullmatch(r"\d{4}", item)), None)
        if day.isdigit() and year:
            return _date(int(year), month, int(day))
    raise InvalidAnswer("date_invalid")


def _date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidAnswer("date_invalid") from exc


def read_number(text: str) -> Decimal:
    """A count such as months or days: 2, 2,5, 2.5, "due", "nessuno"."""
    value = plain(text)
    found = re.search(r"-?\d+(?:[.,]\d+)?", value)
    if found:
        number = Decimal(found.group().replace(",", "."))
    else:
        words = [NUMBER_WORDS[word] for word in re.findall(r"[a-z]+", value) if word in NUMBER_WORDS]
        if not words:
            raise InvalidAnswer("number_invalid")
        number = Decimal(words[0])
    if number < 0:
        raise InvalidAnswer("number_invalid")
    return number


def read_amount(text: str) -> Decimal:
    """Euros: 1.200,50 / 1200 / € 300 / 300 euro / 1,200.50 / nulla."""
    value = plain(text).replace("€", " ").replace("euro", " ").replace("eur", " ")
    found = re.search(r"-?\d[\d.,' ]*", value)
    if not found:
        if any(word in NUMBER_WORDS and NUMBER_WORDS[word] == 0 for word in re.findall(r"[a-z]+", value)):
            return Decimal(0)
        raise InvalidAnswer("amount_invalid")
    digits = found.group().strip().replace(" ", "").replace("'", "")
    if digits.startswith("-"):
        raise InvalidAnswer("amount_invalid")
    try:
        return Decimal(_normalise_separators(digits))
    except InvalidOperation as exc:
        raise InvalidAnswer("amount_invalid") from exc


def _normalise_separators(digits: str) -> str:
    if "," in digits and "." in digits:
        decimal_mark = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        return digits.replace(thousands, "").replace(decimal_mark, ".")
    for mark in (",", "."):
        if mark in digits:
            head, _, tail = digits.rpartition(mark)
            if len(tail) == 3 and digits.count(mark) >= 1 and head.replace(mark, "").isdigit() and len(head.split(mark)[0]) <= 3:
                return digits.replace(mark, "")  # 1.200 / 1,200: thousands
            return head.replace(mark, "") + "." + tail
    return digits


def read_yes_no(text: str) -> bool:
    value = plain(text)
    first = (re.findall(r"[a-z/]+", value) or [""])[0]
    if value in YES or first in YES:
        return True
    if value in NO or first in NO:
        return False
    raise InvalidAnswer("yes_no_invalid")


def read_choice(text: str, choices: Dict[str, tuple]) -> str:
    """The first choice one of whose words or phrases the answer contains (as whole words)."""
    value = plain(text)
    for name, words in choices.items():
        if any(re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", value) for word in words):
            return name
    raise InvalidAnswer("choice_invalid")


def as_date(value: Any) -> Optional[date]:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def as_decimal(value: Any) -> Optional[Decimal]:
    if value is None:
        return None
    return Decimal(str(value))
