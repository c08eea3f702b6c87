"""Train the Rasa model only when its inputs changed.

The fingerprint and the command line live in desk/services/models/training.py, shared with the
desk's training jobs (the "Modelli" page): a hash of config.yml, domain.yml, the training data
(data/nlu, data/rules, data/stories) and our own Rasa components (classifiers/, policies/); the
knowledge base is data read at answer time and does not count."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from desk.services.models.training import inputs_fingerprint, training_command

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
FINGERPRINT = MODELS / "fingerprint.sha256"
MODEL = MODELS / "dialoga.tar.gz"


def main() -> int:
    current = inputs_fingerprint(ROOT)
    if MODEL.exists() and FINGERPRINT.exists() and FINGERPRINT.read_text().strip() == current:
        print(f"model up to date ({MODEL.relative_to(ROOT)}, fingerprint {current[:12]})")
        return 0
    MODELS.mkdir(exist_ok=True)
    started = time.monotonic()
    result = subprocess.run(training_command(ROOT / ".venv" / "bin" / "rasa", Path("models"), "dialoga"), cwd=ROOT)
    if result.returncode != 0:
        return result.returncode
    FINGERPRINT.write_text(current + "\n")
    print(f"trained {MODEL.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
