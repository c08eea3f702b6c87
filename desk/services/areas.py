"""Where a user is: a comune of the ATS Milano area found in a message by name or postal
code (CAP), from data/directory/comuni_ats_milano.yml, and for a Milan CAP (201xx) the
municipio or municipi it covers, from data/directory/cap_municipi_milano.yml. Pure lookups
over loaded tables."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from desk.config import PROJECT_ROOT
from desk.text import plain_words

COMUNI_FILE = PROJECT_ROOT / "data" / "directory" / "comuni_ats_milano.yml"
CAP_MUNICIPI_FILE = PROJECT_ROOT / "data" / "directory" / "cap_municipi_milano.yml"
MILANO = "Milano"
_CAP = re.compile(r"(?<!\d)(2\d{4})(?!\d)")


@dataclass(frozen=True)
class Comune:
    name: str
    istat: str
    province: str  # MI or LO
    caps: Tuple[str, ...]


def _fold(text: str) -> str:
    """Lower case, no accents, apostrophes and dashes as spaces: "Sant'Angelo" ~ "sant angelo"."""
    return " ".join(plain_words(text))


@lru_cache(maxsize=4)
def load_comuni(path: Path = COMUNI_FILE) -> Tuple[Comune, ...]:
    with open(path, encoding="utf-8") as handle:
        rows = yaml.safe_load(handle)["comuni"]
    return tuple(Comune(row["nome"], str(row["codice"]), row["sigla"], tuple(str(cap) for cap in row["cap"]))
                 for row in rows)


def _by_cap(comuni: Tuple[Comune, ...]) -> Dict[str, Comune]:
    return {cap: comune for comune in comuni for cap in comune.caps}


def find_comune(text: str, comuni: Optional[Tuple[Comune, ...]] = None) -> Optional[Comune]:
    """The comune a message names: a CAP of the area first, then the longest comune name
    that appears as whole words ("Cassano d'Adda" before "Cassano")."""
    comuni = comuni or load_comuni()
    for cap in _CAP.findall(text or ""):
        found = _by_cap(comuni).get(cap)
        if found:
            return found
    folded = f" {_fold(text)} "
    matches = [comune for comune in comuni if f" {_fold(comune.name)} " in folded]
    return max(matches, key=lambda comune: len(comune.name), default=None)


def comune_named(name: str, comuni: Optional[Tuple[Comune, ...]] = None) -> Optional[Comune]:
    wanted = _fold(name)
    return next((comune for comune in (comuni or load_comuni()) if _fold(comune.name) == wanted), None)


def names(comuni: Optional[Tuple[Comune, ...]] = None) -> List[str]:
    return [comune.name for comune in (comuni or load_comuni())]


def load_cap_municipi(path: Optional[Path] = None) -> Dict[str, Tuple[int, ...]]:
    """{CAP: (municipio, ...)}; a CAP that spans several municipi names all of them."""
    return _load_cap_municipi(path or CAP_MUNICIPI_FILE)


@lru_cache(maxsize=4)
def _load_cap_municipi(path: Path) -> Dict[str, Tuple[int, ...]]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as handle:
        rows = (yaml.safe_load(handle) or {}).get("cap") or {}
    return {str(cap): tuple(sorted({int(number) for number in numbers})) for cap, numbers in rows.items()}


def milan_municipi(text: str, mapping: Optional[Dict[str, Tuple[int, ...]]] = None) -> Tuple[int, ...]:
    """The municipi of Milan that a CAP written in the text covers; () when the text has no Milan
    CAP, or one the table does not know (then every point serving Milan applies)."""
    mapping = load_cap_municipi() if mapping is None else mapping
    for cap in _CAP.findall(text or ""):
        if cap in mapping:
            return mapping[cap]
    return ()
