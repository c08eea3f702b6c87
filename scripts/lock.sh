#!/usr/bin/env bash
# Re-resolve every dependency together with rasa==3.6.21 into requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/uv pip compile pyproject.toml --extra dev \
  --python-version 3.10 --python-platform x86_64-unknown-linux-gnu \
  --generate-hashes --output-file requirements.lock "$@"
