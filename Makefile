# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The demo's email inbox: mail for support@demo-shop.$(MAIL_DOMAIN) reaches 127.0.0.1:$(SMTP_PORT).
MAIL_DOMAIN ?= mail.localhost
SMTP_PORT ?= 2525
# Replies go to the demo's capturing relay on 127.0.0.1:$(RELAY_PORT) (dev mode only), listed at
# /demo/outbox and never delivered.
RELAY_PORT ?= 2526
# The simulated providers (dev mode only) answer under http://127.0.0.1:$(PORT)/demo/sim/<channel>;
# each channel's provider address points there, and /demo/customer plays their customers
# (frontdesk/demo_sim/: a channel's simulator adds its line to SIM_ENV).
SIM := http://127.0.0.1:$(PORT)/demo/sim
SIM_ENV := FRONTDESK_DEMO_SIMULATED_CHANNELS=1 FRONTDESK_TELEGRAM_API_BASE=$(SIM)/telegram \
	FRONTDESK_LINE_API_URL=$(SIM)/line FRONTDESK_LINE_DATA_URL=$(SIM)/line FRONTDESK_WECHAT_API_BASE=$(SIM)/wechat
DEMO_ENV := FRONTDESK_DEV_MODE=1 FRONTDESK_PORT=$(PORT) FRONTDESK_MAIL_DOMAIN=$(MAIL_DOMAIN) \
	FRONTDESK_SMTP_LISTEN_PORT=$(SMTP_PORT) FRONTDESK_DEMO_RELAY_PORT=$(RELAY_PORT) \
	FRONTDESK_SMTP_HOST=127.0.0.1 FRONTDESK_SMTP_PORT=$(RELAY_PORT) FRONTDESK_SMTP_STARTTLS=0 $(SIM_ENV)

.PHONY: demo test install web lint bench

$(BIN)/frontdesk: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv sync --frozen --quiet
	touch $(BIN)/frontdesk

install: $(BIN)/frontdesk

web:
	./scripts/web-build

# Neither the build's file listing (a failing build still prints everything) nor the long
# command lines are shown, so that the address and the sign-in stand out.
demo: install
	@echo "building the dashboard and the widget…"
	@./scripts/web-build --quiet
	@echo
	@$(DEMO_ENV) $(BIN)/frontdesk demo
	@echo
	@$(DEMO_ENV) FRONTDESK_LOG_FORMAT=text $(BIN)/frontdesk serve

test: install
	./scripts/test

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy src

bench: install
	$(BIN)/python bench/run.py
