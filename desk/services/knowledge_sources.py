"""Where each figure of an entry comes from, and how honestly it was checked.

An entry's `sources` is a list of {"url", "states", "how", "checked_on"}:
- url: the page that states the figure (a circular, an article, the fund's page for that
  benefit), never a bare home page;
- states: what that page states, in a few words;
- how: one of HOW (below), or "ricontrollata nel desk da <operator>" after "Verificato";
- checked_on: the day it was read (None when it was only found).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List
from urllib.parse import urlsplit

READ = "letta"  # its text was read (stored copy read through the research tools) on checked_on
FOUND = "trovata, non letta"  # the address is known (e.g. cited by another page) but the page was not read
HOW = (READ, FOUND)


def is_deep_link(url: str) -> bool:
    """A page, not a site: a path beyond "/" or a query (e.g. ?p=3934)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.path.strip("/") != "" or bool(parts.query)


def read_by_tools(sources: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [source for source in sources if source.get("how") == READ]


def problems(sources: Iterable[Dict[str, Any]]) -> List[str]:
    """What is wrong with an entry's recorded sources (empty when nothing is)."""
    found = []
    for source in sources:
        url = str(source.get("url") or "")
        if not is_deep_link(url):
            found.append(f"{url or '(vuoto)'}: non è la pagina che riporta il dato")
        how = str(source.get("how") or "")
        if how not in HOW and not how.startswith("ricontrollata nel desk da "):
            found.append(f"{url}: non dice come è stata verificata")
        if how == READ and not source.get("checked_on"):
            found.append(f"{url}: letta, ma senza data")
        if not str(source.get("states") or "").strip():
            found.append(f"{url}: non dice cosa riporta")
    return found
