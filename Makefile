# Thüringen-Portal: `make run` (embedded default) and `make test` (real services).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)
NODE_STAMP := node_modules/.installed-$(shell sha1sum package-lock.json | cut -c1-12)

# Optional local configuration (see .env.example); the environment wins.
-include .env
export

# Test configuration: real PostgreSQL and Redis at the standard local ports
# unless DATABASE_URL / REDIS_URL say otherwise.
TEST_ENV = \
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/thueringen_portal} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/9} \
	DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY=test-only-secret-key-that-is-long-enough-for-django-checks \
	DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,testserver \
	DJANGO_SECURE_SSL_REDIRECT=false DJANGO_SECURE_COOKIES=false \
	PORTAL_MANIFEST_STATIC=true PORTAL_STATIC_ROOT=$(CURDIR)/var/test/static \
	PORTAL_VAR_DIR=$${PORTAL_VAR_DIR:-$(CURDIR)/var/test} \
	EMAIL_HOST= PORTAL_STORAGE_BACKEND=local

# Test processes (pytest-xdist): most of the suite waits on real workers, browsers
# and servers rather than computing, so more processes than cores pay off; one
# file stays in one process (module fixtures such as a collected STATIC_ROOT).
# The longest files are handed out first (tests/support/file_order.py);
# --no-loadscope-reorder keeps xdist from re-sorting them by number of tests.
PYTEST_ARGS ?= -n 3 --dist loadfile --no-loadscope-reorder

.PHONY: install run test lint format bench clean messages

$(PY_STAMP): requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11+ is needed: install python3 (and python3-venv)."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements.lock
	rm -f $(VENV)/.installed-*; touch $@

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "Node.js with npm is needed for the front-end packages (KERN UX)."; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-*; touch $@

install: $(PY_STAMP) $(NODE_STAMP)

run: install
	@DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) manage.py bootstrap --demo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(TEST_ENV) $(PYTHON) scripts/ensure_services.py
	@# The suite runs on hashed static files from a real collectstatic, as deployed.
	@$(TEST_ENV) $(PY) manage.py collectstatic --noinput --clear -v0
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	@$(TEST_ENV) $(PYTHON) scripts/ensure_services.py
	@$(TEST_ENV) $(PY) manage.py collectstatic --noinput --clear -v0
	$(TEST_ENV) $(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules var staticfiles

# Refresh the English catalogue after changing German UI strings (needs gettext:
# apt-get install gettext). The compiled .mo is committed, so `make run` needs none.
messages: install
	DJANGO_DEBUG=true $(PY) manage.py makemessages -l en -e html,txt,py --no-obsolete \
		--ignore=.venv --ignore=node_modules --ignore=tests --ignore=bench --ignore=staticfiles --ignore=var
	for po in locale/en/LC_MESSAGES/django.po */locale/en/LC_MESSAGES/django.po; do \
		msgfmt --check-format -o "$${po%.po}.mo" "$$po" || exit 1; done
