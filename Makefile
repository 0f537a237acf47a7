# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The demo's email inbox: mail for support@demo-shop.$(MAIL_DOMAIN) reaches 127.0.0.1:$(SMTP_PORT).
MAIL_DOMAIN ?= mail.localhost
SMTP_PORT ?= 2525
DEMO_ENV := FRONTDESK_DEV_MODE=1 FRONTDESK_PORT=$(PORT) FRONTDESK_MAIL_DOMAIN=$(MAIL_DOMAIN) FRONTDESK_SMTP_LISTEN_PORT=$(SMTP_PORT)

.PHONY: demo test install web lint bench

$(BIN)/frontdesk: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv sync --frozen --quiet
	touch $(BIN)/frontdesk

install: $(BIN)/frontdesk

web:
	./scripts/web-build

demo: install web
	$(DEMO_ENV) $(BIN)/frontdesk demo
	$(DEMO_ENV) FRONTDESK_LOG_FORMAT=text $(BIN)/frontdesk serve

test: install
	./scripts/test

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy src

bench: install
	$(BIN)/python bench/run.py
