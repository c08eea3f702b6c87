"""scripts/cap_municipi_from_open_data.py: the Milan CAP -> municipi table is derived from the
Comune's house-number files, never typed in. Checked on small files shaped like the Comune's
(made-up streets and numbers, not real data)."""
from __future__ import annotations

import importlib.util
import sys

import pytest

from desk.config import PROJECT_ROOT
from desk.services import areas

_spec = importlib.util.spec_from_file_location("cap_municipi_script",
                                               PROJECT_ROOT / "scripts" / "cap_municipi_from_open_data.py")
script = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = script  # dataclasses look their module up while the class is built
_spec.loader.exec_module(script)


def write(path, header, rows):
    path.write_text("\n".join([";".join(header)] + [";".join(str(cell) for cell in row) for row in rows]) + "\n",
                    encoding="utf-8")
    return path


@pytest.fixture
def civici(tmp_path):
    rows = [(10, number, "", "", 1) for number in range(1, 21)]            # street 10: municipio 1
    rows += [(20, number, "", "", 4) for number in range(1, 11)]           # street 20: municipio 4
    rows += [(30, 5, "A", "", 2), (30, 5, "", "", 3)]                      # 5/A and 5 are different houses
    rows += [(40, 7, "", "", 5), (40, 7, "", "", 6)]                       # one house number, two municipi
    return write(tmp_path / "civici.csv", ["CODICE_VIA", "NUMERO", "LETTERA", "BARRA", "MUNICIPIO"], rows)


@pytest.fixture
def stradario(tmp_path):
    rows = [(10, number, "", "122") for number in range(1, 21)]            # short CAP form: 20122
    rows += [(20, number, "", "20122") for number in range(1, 11)]
    rows += [(30, 5, "A", "20121"), (40, 7, "", "20123"), (99, 1, "", "20124"), (10, 1, "", "20100")]
    return write(tmp_path / "stradario.csv", ["CODICE_VIA", "CIVICO", "BARRATO", "CAP"], rows)


def test_a_cap_lists_the_municipi_of_its_house_numbers(civici, stradario, tmp_path):
    output = tmp_path / "cap_municipi.yml"
    assert script.main(["--civici", str(civici), "--stradario", str(stradario), "--licence", "CC BY 4.0",
                        "--output", str(output)]) == 0
    assert areas.load_cap_municipi(output) == {"20122": (1, 4)}
    text = output.read_text(encoding="utf-8")
    assert "Licence of the data: CC BY 4.0." in text and script.sha256(civici) in text and script.sha256(stradario) in text
    assert "House numbers joined: 31;" in text and "not found in the civici file: 1; in two municipi: 1;" in text


def test_a_few_house_numbers_are_left_out_unless_the_thresholds_allow_them(civici, stradario):
    strict = script.derive(civici, stradario)
    assert strict.cap == {"20122": [1, 4]} and ("20121", 2, 1) in strict.dropped_pairs
    loose = script.derive(civici, stradario, min_count=1, min_share=0)
    assert loose.cap == {"20121": [2], "20122": [1, 4]}  # 30/5A is municipio 2, not 30/5's municipio 3
    assert loose.outside_milan == 1  # the generic 20100 is not a Milan delivery CAP


def test_a_civici_file_with_its_own_cap_needs_no_join(tmp_path):
    civici = write(tmp_path / "civici.csv", ["CODICE_VIA", "NUMERO", "MUNICIPIO", "CAP"],
                   [(1, number, 8 if number <= 6 else 9, "20156") for number in range(1, 13)])
    assert script.derive(civici).cap == {"20156": [8, 9]}


def test_files_of_another_shape_are_refused(civici, tmp_path):
    other = write(tmp_path / "other.csv", ["VIA", "NUMERO"], [("Via Roma", 1)])
    assert script.main(["--civici", str(other), "--licence", "x", "--output", str(tmp_path / "out.yml")]) == 2
    assert script.main(["--civici", str(civici), "--licence", "x", "--output", str(tmp_path / "out.yml")]) == 2
    assert not (tmp_path / "out.yml").exists()
    assert [script.normalise_cap(value) for value in ("20121", "121", "20100", "20163", "00121", "")] == [
        "20121", "20121", None, None, None, None]
