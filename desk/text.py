"""User text as the desk stores it.

Text typed by users reaches the database, the desk's pages, CSV exports and the training
data (data/nlu/<lang>/learned.yml). Characters that no keyboard produces on purpose break
some of these: PostgreSQL refuses NUL, YAML loaders refuse C1 controls and non-characters,
a lone surrogate cannot even be encoded as UTF-8. `user_text` cleans a message once, on
the way in; `printable` is the weaker rule for text that keeps its own layout."""
import re
import unicodedata
from typing import List

# Kept although they are "format" characters: they join emoji sequences and some scripts.
_KEPT_FORMAT = frozenset("\u200c\u200d")
_LINE_SEPARATORS = re.compile("[\u2028\u2029\u0085]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n[^\S\n]*(?:\n[^\S\n]*){2,}")
_PLAIN_WORD = re.compile(r"[a-z0-9]+")


def _unwanted(char: str) -> bool:
    if char in "\n\t":
        return False
    category = unicodedata.category(char)
    if category in ("Cc", "Cs"):  # C0 and C1 controls, DEL; lone surrogates
        return True
    if category == "Cf":  # bidi overrides, zero-width spaces, BOMs, tag characters...
        return char not in _KEPT_FORMAT
    return is_noncharacter(char)


def is_noncharacter(char: str) -> bool:
    """Unicode's 66 permanent non-characters: U+FDD0..U+FDEF and the last two of every plane."""
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def printable(text: str) -> str:
    """The text without control, format and non-characters (newlines and tabs stay)."""
    text = text or ""
    if text.isascii() and text.isprintable():
        return text
    return "".join(char for char in text if not _unwanted(char))


def user_text(text: str) -> str:
    """A message as users meant it: NFC, Unicode line separators as newlines, no control,
    format or non-characters, runs of spaces and tabs as one space, at most one blank line
    in a row, no surrounding blanks."""
    text = _LINE_SEPARATORS.sub("\n", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    text = unicodedata.normalize("NFC", printable(text))
    text = _HORIZONTAL_SPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def plain_words(text: str) -> List[str]:
    """The words of a text in lower case without accents, apostrophes, dashes or other punctuation
    ("Sant'Angelo, Maternità?" -> ["sant", "angelo", "maternita"]), for matching what users type
    against names and terms."""
    decomposed = unicodedata.normalize("NFKD", (text or "").lower())
    return _PLAIN_WORD.findall("".join(char for char in decomposed if not unicodedata.combining(char)))
