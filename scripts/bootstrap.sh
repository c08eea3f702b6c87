#!/usr/bin/env bash
# Create .venv with Python 3.10 and install exactly what requirements.lock says.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8

find_python310() {
  for candidate in "${PYTHON310:-}" python3.10 "$(command -v pyenv >/dev/null 2>&1 && echo "$(pyenv root)/versions/3.10.13/bin/python3.10")"; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for dir in "$(pyenv root)"/versions/3.10.*; do
      [ -x "$dir/bin/python3.10" ] && { echo "$dir/bin/python3.10"; return 0; }
    done
  fi
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
  if ! python=$(find_python310); then
    echo "error: Python 3.10 is required (Rasa 3.6 supports 3.8-3.10) and was not found." >&2
    echo "Install it, e.g. 'pyenv install 3.10.13' or your system's python3.10 package, or set PYTHON310=/path/to/python3.10." >&2
    exit 1
  fi
  echo "Creating .venv with $python"
  rm -rf .venv
  "$python" -m venv .venv
fi

if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  .venv/bin/python -m pip install --quiet "uv==$UV_VERSION"
fi
.venv/bin/uv pip sync --python .venv/bin/python requirements.lock
.venv/bin/uv pip install --python .venv/bin/python --no-deps -e .
