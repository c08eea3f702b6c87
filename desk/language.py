"""Which language a user writes in, from short chat texts.

Lingua (a kept library for short texts) decides between Italian and English;
a wider detector recognises a message clearly written in another language.
The decision keeps the conversation's language unless the new message is
clear evidence of the other one."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from lingua import Language, LanguageDetectorBuilder

SUPPORTED = ("it", "en")
DEFAULT_LANGUAGE = "it"

# English words Italians use in Italian sentences about work ("smart working",
# "welfare", "part time", "ok"): they say nothing about the language.
_LOANWORDS = re.compile(
    r"\b(smart|working|welfare|part|time|full|fringe|benefits?|bonus|ok|okay|caregiver|baby|sitter|"
    r"manager|team|voucher|badge|check|up|help|desk|online|welfare|plan|work|life|balance|home|office|"
    r"covid|fsba|elba|wila|inps|inail|cip|isee|asap|info)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)

_FOREIGN = {
    Language.FRENCH: "fr", Language.GERMAN: "de", Language.SPANISH: "es", Language.PORTUGUESE: "pt",
    Language.ROMANIAN: "ro", Language.ARABIC: "ar", Language.CHINESE: "zh", Language.RUSSIAN: "ru",
    Language.UKRAINIAN: "uk", Language.ALBANIAN: "sq", Language.POLISH: "pl",
    Language.HINDI: "hi", Language.BENGALI: "bn", Language.URDU: "ur", Language.TURKISH: "tr",
    Language.PERSIAN: "fa", Language.DUTCH: "nl",
}
_CODES = {Language.ITALIAN: "it", Language.ENGLISH: "en", **_FOREIGN}


@lru_cache(maxsize=1)
def _italian_or_english():
    return LanguageDetectorBuilder.from_languages(Language.ITALIAN, Language.ENGLISH).with_preloaded_language_models().build()


@lru_cache(maxsize=1)
def _any_language():
    languages = [Language.ITALIAN, Language.ENGLISH, *_FOREIGN]
    return LanguageDetectorBuilder.from_languages(*languages).build()


@dataclass(frozen=True)
class LanguageGuess:
    language: str            # it or en: the language to answer in
    foreign: Optional[str]   # ISO code when the message is clearly in another language
    confident: bool          # whether this message alone decided the language


def preload() -> None:
    _italian_or_english()
    _any_language()


def guess_language(text: str, current: Optional[str] = None, hint: Optional[str] = None) -> LanguageGuess:
    """current: the conversation's language so far; hint: the channel's
    (Telegram's language_code, the widget's data-lang), used for a first message."""
    fallback = current or (hint if hint in SUPPORTED else None) or DEFAULT_LANGUAGE
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return LanguageGuess(fallback, None, False)
    foreign = _foreign_language(text)
    if foreign:
        return LanguageGuess(fallback, foreign, True)
    meaningful = _LOANWORDS.sub(" ", text)
    words = _WORD.findall(meaningful)
    if not words:
        return LanguageGuess(fallback, None, False)
    values = _italian_or_english().compute_language_confidence_values(meaningful)
    best = values[0]
    language, confidence = _CODES[best.language], best.value
    if language == "it" and len(words) > 3 and _mostly_english(meaningful):
        # "is there cassa integrazione for artisan firms?": English around Italian terms.
        language, confidence = "en", 0.9
    if current is None:
        # First message: a modest lead is enough to beat the default.
        needed = 0.6 if len(words) > 1 else 0.75
    else:
        needed = 0.8 if len(words) > 1 else 0.95
    if language != fallback and confidence >= needed:
        return LanguageGuess(language, None, True)
    return LanguageGuess(fallback, None, language == fallback and confidence >= needed)


def _mostly_english(text: str) -> bool:
    words = {"it": 0, "en": 0}
    for segment in _italian_or_english().detect_multiple_languages_of(text):
        words[_CODES[segment.language]] += segment.word_count
    return words["en"] > words["it"]


def _foreign_language(text: str) -> Optional[str]:
    latin = sum(1 for char in text if char.isalpha() and char.isascii())
    other_script = sum(1 for char in text if char.isalpha() and not char.isascii() and ord(char) > 0x24F)
    if latin < 15 and other_script < 3:
        return None
    values = _any_language().compute_language_confidence_values(text)
    best = values[0]
    code = _CODES.get(best.language)
    if code in SUPPORTED or code is None:
        return None
    # Latin-script languages share many words with Italian dialects and chat
    # spelling: ask for a clear lead before telling a user we do not speak it.
    needed = 0.5 if other_script >= 3 else 0.85
    return code if best.value >= needed else None
