# Everyday commands. `make run` and `make test` work on a fresh clone.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

export RASA_PORT ?= 5005
export ACTIONS_PORT ?= 5055
export DESK_HOST ?= 127.0.0.1
export DESK_PORT ?= 8000
export DIALOGA_DATABASE_URL ?= sqlite:///$(CURDIR)/var/dialoga.db
# The assistant pulls the live model from the desk (Rasa's model server, see README "Model updates");
# DIALOGA_RASA_ENDPOINTS=endpoints.yml runs it on the local file models/dialoga.tar.gz instead.
export DIALOGA_RASA_ENDPOINTS ?= endpoints.model-server.yml
export DIALOGA_MODEL_SERVER_URL ?= http://127.0.0.1:$(DESK_PORT)/models/live.tar.gz
export DIALOGA_MODEL_SERVER_TOKEN ?= dev-only-model-token
export DIALOGA_MODEL_PULL_SECONDS ?= 10
# Rasa and TensorFlow: quiet logs, no telemetry.
export RASA_TELEMETRY_ENABLED ?= false
export TF_CPP_MIN_LOG_LEVEL ?= 2

PROCESSES := assistant actions desk worker
# The Telegram gateway runs only when a bot token is set (TELEGRAM_BOT_TOKEN).
ifneq ($(strip $(TELEGRAM_BOT_TOKEN)),)
PROCESSES += telegram
endif

.PHONY: browser nginx setup assets db model run run-prod drills test validate test-stories pytest eval bench lock audit clean

setup: $(VENV)/.synced assets

# The desk's front-end libraries (htmx, Chart.js) from the npm registry, served by the desk.
assets: desk/web/static/vendor/.built

desk/web/static/vendor/.built: package.json package-lock.json scripts/build_assets.sh
	scripts/build_assets.sh
	touch $@

# bot/__init__.py: the editable install only knows the top-level packages present when it ran.
$(VENV)/.synced: requirements.lock pyproject.toml scripts/bootstrap.sh bot/__init__.py
	scripts/bootstrap.sh
	touch $@

db: setup
	$(BIN)/dialoga db upgrade
	$(BIN)/dialoga kb seed

model: setup
	$(BIN)/python scripts/train_if_changed.py

# Development mode (unless DIALOGA_ENV says otherwise): the processes accept the development
# secret key (see "Security and privacy" in README.md).
run: db model
	DIALOGA_ENV=$${DIALOGA_ENV:-development} $(BIN)/honcho start -f Procfile $(PROCESSES)

# Production mode on this machine: nginx in front of two assistants, two action servers, the desk
# under gunicorn, the worker, on PostgreSQL and Redis (README "Deployment"; deploy/production.env).
run-prod: setup model nginx
	scripts/run_prod.sh

# The fault drills (tests/test_drills.py): a production-like stack, processes killed under load.
drills: setup model nginx
	$(BIN)/python -m pytest tests/test_drills.py -m drill $(PYTEST_ARGS)

test: db model validate test-stories pytest

validate: setup
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data data/nlu data/rules data/stories

test-stories: model
	$(BIN)/rasa test core --model models/dialoga.tar.gz --stories tests/test_stories.yml \
		--out results/stories --fail-on-prediction-errors

pytest: model browser nginx
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Production mode and the drills run Debian's nginx, as a foreground process with the project's own
# configuration (never the system service).
nginx:
	@command -v nginx >/dev/null || { echo "installing Debian's nginx for production mode and the drills"; \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y --no-install-recommends nginx-light; }

# Browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium for the browser tests"; \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y --no-install-recommends chromium; }

eval: db model
	$(BIN)/python -m eval.run

bench: db model
	$(BIN)/python -m bench.run

lock: setup
	scripts/lock.sh

# Known vulnerabilities of the locked packages. pip-audit runs in its own environment (uv's tool
# cache): it needs a newer `packaging` than Rasa allows in the project's. --strict fails when a
# package could not be checked (e.g. no vulnerability service reachable). Not part of `make test`.
audit: $(VENV)/.synced
	$(BIN)/uv tool run pip-audit --requirement requirements.lock --require-hashes --disable-pip --strict \
		--progress-spinner off

clean:
	rm -rf results models var test-artifacts node_modules desk/web/static/vendor
