"""Train the Rasa model only when its inputs changed.

The fingerprint is a hash of config.yml, domain.yml, the training data
(data/nlu, data/rules, data/stories) and our own Rasa components (classifiers/,
policies/); the knowledge base is data read at answer time and does not count."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
FINGERPRINT = MODELS / "fingerprint.sha256"
MODEL = MODELS / "dialoga.tar.gz"


def training_inputs() -> list:
    files = [ROOT / "config.yml", ROOT / "domain.yml"]
    for folder in ("nlu", "rules", "stories"):
        files += sorted((ROOT / "data" / folder).rglob("*.yml"))
    # The model also holds what our own components learnt: their code changes the model.
    for package in ("classifiers", "policies"):
        files += sorted((ROOT / package).glob("*.py"))
    return files


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in training_inputs():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def main() -> int:
    current = fingerprint()
    if MODEL.exists() and FINGERPRINT.exists() and FINGERPRINT.read_text().strip() == current:
        print(f"model up to date ({MODEL.relative_to(ROOT)}, fingerprint {current[:12]})")
        return 0
    MODELS.mkdir(exist_ok=True)
    started = time.monotonic()
    command = [
        str(ROOT / ".venv" / "bin" / "rasa"), "train", "--config", "config.yml", "--domain", "domain.yml",
        "--data", "data/nlu", "data/rules", "data/stories", "--out", "models", "--fixed-model-name", "dialoga",
    ]
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        return result.returncode
    FINGERPRINT.write_text(current + "\n")
    print(f"trained {MODEL.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
