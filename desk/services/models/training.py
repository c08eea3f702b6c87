"""What a training reads and the `rasa train` command line: shared by `make model`
(scripts/train_if_changed.py) and the worker's training jobs, so both mean the same model.

The inputs fingerprint is a hash of config.yml, domain.yml, the training data (data/nlu,
data/rules, data/stories, and the learning loop's folder when it lives elsewhere) and our own Rasa
components (classifiers/, policies/); the knowledge base is data read at answer time and does not
count."""
from __future__ import annotations

import hashlib
import subprocess
import time
from collections import deque
from pathlib import Path
from typing import Callable, List, Optional, Sequence

DATA_FOLDERS = ("nlu", "rules", "stories")
COMPONENT_PACKAGES = ("classifiers", "policies")
LOG_TAIL_LINES = 40


def extra_nlu_dirs(root: Path, learned_nlu_dir: Optional[Path]) -> List[Path]:
    """The learning loop's folder, when it is not already part of data/nlu."""
    if learned_nlu_dir is None:
        return []
    learned = learned_nlu_dir.resolve()
    nlu = (root / "data" / "nlu").resolve()
    if learned == nlu or nlu in learned.parents:
        return []
    return [learned]


def training_inputs(root: Path, extra_dirs: Sequence[Path] = ()) -> List[Path]:
    files = [root / "config.yml", root / "domain.yml"]
    for folder in DATA_FOLDERS:
        files += sorted((root / "data" / folder).rglob("*.yml"))
    for folder in extra_dirs:
        files += sorted(Path(folder).rglob("*.yml"))
    # The model also holds what our own components learnt: their code changes the model.
    for package in COMPONENT_PACKAGES:
        files += sorted((root / package).glob("*.py"))
    return files


def _label(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def inputs_fingerprint(root: Path, extra_dirs: Sequence[Path] = ()) -> str:
    digest = hashlib.sha256()
    for path in training_inputs(root, extra_dirs):
        digest.update(_label(path, root).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def training_command(rasa: Path, out_dir: Path, model_name: str, extra_dirs: Sequence[Path] = ()) -> List[str]:
    """`rasa train` from the project root, writing <out_dir>/<model_name>.tar.gz."""
    data = [f"data/{folder}" for folder in DATA_FOLDERS] + [str(folder) for folder in extra_dirs]
    return [str(rasa), "train", "--config", "config.yml", "--domain", "domain.yml", "--data", *data,
            "--out", str(out_dir), "--fixed-model-name", model_name]


def log_tail(log_file: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not log_file.exists():
        return ""
    with open(log_file, encoding="utf-8", errors="replace") as handle:
        return "".join(deque(handle, maxlen=lines))[-8000:]


def run_logged(
    command: Sequence[str], cwd: Path, log_file: Path, keep_going: Callable[[str], bool],
    timeout: float, poll_seconds: float = 5.0, env: Optional[dict] = None,
) -> int:
    """Run a command with its output appended to log_file. Every poll_seconds keep_going(tail of
    the log) is called (the worker renews its lease and shows progress there); when it returns
    False, or after timeout seconds, the command is stopped and RuntimeError raised."""
    deadline = time.monotonic() + timeout
    with open(log_file, "ab") as log:
        process = subprocess.Popen(list(command), cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env)
        while True:
            try:
                return process.wait(timeout=poll_seconds)
            except subprocess.TimeoutExpired:
                pass
            if not keep_going(log_tail(log_file)) or time.monotonic() > deadline:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                raise RuntimeError(f"{Path(command[0]).name} stopped: lease lost or slower than {timeout:.0f} s")
