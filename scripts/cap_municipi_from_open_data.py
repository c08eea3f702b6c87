"""Build data/directory/cap_municipi_milano.yml (Milan postal code -> municipi) from the
Comune di Milano's open data, so that the table is derived, never typed in.

Inputs (CSV files an operator downloads from dati.comune.milano.it; this machine has no network):
  --civici      DS634 "Numeri civici con coordinate geografiche": one row per house number with
                its street code (CODICE_VIA), number (NUMERO), letter/bar (LETTERA, BARRA) and
                municipio (MUNICIPIO). If the file also has a CAP column, it is enough alone.
  --stradario   a street register with CAP per house number, e.g. DS2973 "Stradario referendum
                2026" (CODICE_VIA, CIVICO, BARRATO, CAP). Needed when --civici has no CAP column:
                the two files are joined on street code, number and suffix.

Column names are those the Comune's files had when this script was written (as read by public
scripts that use them); a file with other names is refused with the list of what is missing.

Method: every house number found in both files (or in --civici alone) gives one (CAP, municipio)
pair. A CAP lists a municipio when at least --min-count of its house numbers, and at least
--min-share of them, lie in that municipio: a handful of house numbers is more likely a join or
data-entry error than a real overlap. CAPs outside 20121-20162 (e.g. the generic 20100) are left
out. The header of the output names both files with their SHA-256, the licence and the date.

Usage:
  python scripts/cap_municipi_from_open_data.py --civici ds634.csv --stradario ds2973.csv \
      --licence "CC BY 4.0" --output data/directory/cap_municipi_milano.yml
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

CIVICI_COLUMNS = ("CODICE_VIA", "NUMERO", "MUNICIPIO")
STRADARIO_COLUMNS = ("CODICE_VIA", "CIVICO", "CAP")
MILAN_CAP = re.compile(r"^201(2[1-9]|[3-5]\d|6[0-2])$")
Key = Tuple[str, str, str]


class InputError(ValueError):
    pass


@dataclass
class Derivation:
    cap: Dict[str, List[int]]
    civics_per_cap: Dict[str, Counter] = field(default_factory=dict)
    joined: int = 0
    unmatched: int = 0
    ambiguous: int = 0
    outside_milan: int = 0
    dropped_pairs: List[Tuple[str, int, int]] = field(default_factory=list)
    joined_with_stradario: bool = False


def _rows(path: Path) -> Iterator[Dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        delimiter = ";" if sample.count(";") >= sample.count(",") else ","
        reader = csv.DictReader(handle, delimiter=delimiter)
        for row in reader:
            yield {(name or "").strip().upper(): (value or "").strip() for name, value in row.items()}


def _header(path: Path) -> List[str]:
    return list(next(_rows(path), {}).keys())


def _require(path: Path, columns: Sequence[str]) -> None:
    missing = [name for name in columns if name not in _header(path)]
    if missing:
        raise InputError(f"{path}: missing columns {', '.join(missing)} (found: {', '.join(_header(path))})")


def _number(value: str) -> str:
    digits = value.strip().lstrip("0")
    return digits or "0"


def _suffix(*values: str) -> str:
    """Letter or bar of a house number ("12/A", "12 bis") as one upper-case token."""
    return "".join(re.sub(r"[^A-Z0-9]", "", value.upper()) for value in values if value)


def normalise_cap(value: str) -> Optional[str]:
    """A Milan CAP as five digits: "20121", or the short form "121" some registers use."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 5:
        cap = digits
    elif 1 <= len(digits) <= 3:
        cap = f"20{int(digits):03d}"
    else:
        return None
    return cap if MILAN_CAP.match(cap) else None


def _municipio(value: str) -> Optional[int]:
    digits = re.sub(r"\D", "", value or "")
    number = int(digits) if digits else 0
    return number if 1 <= number <= 9 else None


def _civici_by_key(path: Path) -> Dict[Key, set]:
    municipi: Dict[Key, set] = defaultdict(set)
    for row in _rows(path):
        municipio = _municipio(row.get("MUNICIPIO", ""))
        if municipio is None:
            continue
        key = (_number(row["CODICE_VIA"]), _number(row["NUMERO"]), _suffix(row.get("LETTERA", ""), row.get("BARRA", "")))
        municipi[key].add(municipio)
    return municipi


def _pairs_from_civici(path: Path, derivation: Derivation) -> Iterable[Tuple[str, int]]:
    for row in _rows(path):
        cap, municipio = normalise_cap(row.get("CAP", "")), _municipio(row.get("MUNICIPIO", ""))
        if cap is None:
            derivation.outside_milan += 1
        elif municipio is not None:
            derivation.joined += 1
            yield cap, municipio


def _pairs_from_join(civici: Path, stradario: Path, derivation: Derivation) -> Iterable[Tuple[str, int]]:
    municipi = _civici_by_key(civici)
    for row in _rows(stradario):
        cap = normalise_cap(row["CAP"])
        if cap is None:
            derivation.outside_milan += 1
            continue
        key = (_number(row["CODICE_VIA"]), _number(row["CIVICO"]), _suffix(row.get("BARRATO", "")))
        found = municipi.get(key)
        if not found:
            derivation.unmatched += 1
        elif len(found) > 1:
            derivation.ambiguous += 1  # the same house number in two municipi: trust neither
        else:
            derivation.joined += 1
            yield cap, next(iter(found))


def derive(civici: Path, stradario: Optional[Path] = None, min_count: int = 5,
           min_share: float = 0.005) -> Derivation:
    _require(civici, CIVICI_COLUMNS)
    derivation = Derivation(cap={})
    if "CAP" in _header(civici):
        pairs = _pairs_from_civici(civici, derivation)
    elif stradario is None:
        raise InputError(f"{civici} has no CAP column: give --stradario (a register with CAP per house number)")
    else:
        _require(stradario, STRADARIO_COLUMNS)
        derivation.joined_with_stradario = True
        pairs = _pairs_from_join(civici, stradario, derivation)
    counts: Dict[str, Counter] = defaultdict(Counter)
    for cap, municipio in pairs:
        counts[cap][municipio] += 1
    for cap in sorted(counts):
        total = sum(counts[cap].values())
        kept = []
        for municipio, count in sorted(counts[cap].items()):
            if count >= min_count and count >= min_share * total:
                kept.append(municipio)
            else:
                derivation.dropped_pairs.append((cap, municipio, count))
        if kept:
            derivation.cap[cap] = kept
    derivation.civics_per_cap = dict(counts)
    return derivation


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def render(derivation: Derivation, civici: Path, stradario: Optional[Path], licence: str,
           min_count: int, min_share: float, today: date) -> str:
    inputs = [("civici (DS634)", civici)]
    if stradario is not None and derivation.joined_with_stradario:
        inputs.append(("stradario con CAP", stradario))
    lines = [
        "# Milan's postal codes (CAP 201xx) and the municipi each one covers, for the area search of the",
        "# directory (desk/services/areas.py: milan_municipi). A CAP that spans several municipi lists all of",
        "# them; a CAP missing here gives every point that serves Milan.",
        "#",
        f"# Generated on {today.isoformat()} by scripts/cap_municipi_from_open_data.py from the Comune di Milano's",
        "# open data (dati.comune.milano.it):",
    ]
    lines += [f"#   {label}: {path.name}, sha256 {sha256(path)}" for label, path in inputs]
    lines += [
        f"# Licence of the data: {licence}.",
        f"# Method: each house number gives (CAP, municipio); a CAP lists a municipio holding at least {min_count}",
        f"# of its house numbers and at least {min_share:.1%} of them. House numbers joined: {derivation.joined};",
        f"# not found in the civici file: {derivation.unmatched}; in two municipi: {derivation.ambiguous};",
        f"# CAP outside 20121-20162: {derivation.outside_milan}; (CAP, municipio) pairs below the thresholds:",
        f"# {len(derivation.dropped_pairs)}. Re-run the script on newer files to update the table.",
        "cap:",
    ]
    lines += [f'  "{cap}": [{", ".join(str(number) for number in municipi)}]'
              for cap, municipi in sorted(derivation.cap.items())]
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--civici", type=Path, required=True)
    parser.add_argument("--stradario", type=Path)
    parser.add_argument("--licence", required=True, help="as stated on the datasets' pages, e.g. 'CC BY 4.0'")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--min-share", type=float, default=0.005)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        derivation = derive(args.civici, args.stradario, args.min_count, args.min_share)
    except InputError as error:
        print(error, file=sys.stderr)
        return 2
    if not derivation.cap:
        print("no CAP of Milan found: the table was not written", file=sys.stderr)
        return 1
    args.output.write_text(render(derivation, args.civici, args.stradario, args.licence, args.min_count,
                                  args.min_share, date.today()), encoding="utf-8")
    for cap, municipio, count in derivation.dropped_pairs:
        print(f"left out: CAP {cap} municipio {municipio} ({count} house numbers)", file=sys.stderr)
    print(f"{len(derivation.cap)} CAPs written to {args.output} ({derivation.joined} house numbers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
