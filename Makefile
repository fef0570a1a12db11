# Every target sets up what it needs: a fresh clone runs `make test` or `make dev` directly.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13, the Lambda runtime: from PATH if it works there, else pyenv's newest 3.13.
PYTHON313 ?= $(shell for c in python3.13 $$(ls -d "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV); do \
	"$$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { command -v "$$c"; break; }; done)
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0

export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
# Running the tests never needs real credentials; these keep boto3 from looking for any.
export AWS_ACCESS_KEY_ID ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: check-python
check-python:
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found: install it (pyenv install 3.13) or put python3.13 on PATH" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml | check-python
	"$(PYTHON313)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(SAM_VENV)/.installed: | check-python
	"$(PYTHON313)" -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv: the app and its dev tools

# Only building and validating the template need aws-sam-cli; make dev never does.
.PHONY: sam-venv
sam-venv: $(SAM_VENV)/.installed ## Create .venv-sam: aws-sam-cli, apart because it pins boto3 and pydantic low

# DynamoDB Local is a Java program shipped in an npm package.
.PHONY: java
java:
	@command -v java >/dev/null 2>&1 || { \
		echo "Installing a Java runtime for DynamoDB Local"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; }

# The browser tests (tests/e2e) drive Debian's Chromium; Playwright never downloads one.
.PHONY: chromium
chromium:
	@test -x /usr/bin/chromium || { \
		echo "Installing Chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: local-deps
local-deps: venv java node_modules/.installed

.PHONY: lint
lint: venv ## ruff, ruff format --check and mypy (strict on the domain layer)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/domain/python

.PHONY: validate
validate: sam-venv ## sam validate --lint on template.yaml
	$(SAM) validate --lint

# checkov pins boto3, botocore and packaging below what the app uses, so it gets a virtual
# environment of its own, like aws-sam-cli (one to two minutes to install on 2 cores).
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30

$(CHECKOV_VENV)/.installed: | check-python
	"$(PYTHON313)" -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# cfn-lint comes with aws-sam-cli; bandit is one of the app's dev tools (pyproject.toml).
# What each skips, and why, is written where the skip is: template.yaml, .checkov.yaml,
# pyproject.toml's [tool.bandit] and the code's own `# nosec` comments.
.PHONY: security
security: venv sam-venv $(CHECKOV_VENV)/.installed ## cfn-lint (informational checks too) and checkov on the template, bandit on the code
	$(SAM_VENV)/bin/cfn-lint --include-checks I -- template.yaml
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml
	$(VENV)/bin/bandit -c pyproject.toml -q -r functions layers local_runtime scripts

# The console's logic (money, the dialog's state machine, requests, sign-in) on node's
# own test runner; its pages are tested in Chromium by tests/e2e.
.PHONY: test-console
test-console: ## The console's JavaScript unit tests (node --test)
	node --test console/test/

.PHONY: test
test: lint validate security build local-deps chromium test-console ## Lint, validate and build the template, run every test with coverage
	$(VENV)/bin/pytest --cov=layers/domain/python/domain --cov-branch \
		--cov-report=term-missing --cov-fail-under=95

.PHONY: screenshots
screenshots: local-deps chromium ## Run the browser tests, saving their screenshots in docs/screenshots
	SCREENSHOTS_DIR=docs/screenshots $(VENV)/bin/pytest tests/e2e -q -p no:cacheprovider

.PHONY: dev
dev: local-deps ## Run the product locally on 127.0.0.1:3000 (PORT=... to change it, SEED=0 starts empty)
	$(PY) -m local_runtime

STACK ?= order-cancellations
.PHONY: deploy-console
deploy-console: venv ## Upload the console to the deployed stack STACK and write its config.json
	$(PY) scripts/deploy_console.py --stack "$(STACK)"

.PHONY: openapi
openapi: venv ## Write docs/openapi.json, the OpenAPI document generated from the handlers (commit it)
	$(PY) -m local_runtime.openapi --output docs/openapi.json

SELLER ?= seller-acme
SCOPES ?= orders.read orders.write
.PHONY: token
token: venv ## Mint a local token: make token SELLER=seller-acme SCOPES="orders.read orders.write"
	@$(PY) -m local_runtime.tokens --seller "$(SELLER)" --scopes "$(SCOPES)"

.PHONY: invoke
invoke: venv ## Run one function on a sample event against the running local stack: make invoke FN=list_orders EVENT=events/list_orders.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=events/<file>.json" >&2; exit 2; }
	$(PY) -m local_runtime.invoke "$(FN)" "$(EVENT)"

.PHONY: reconcile
reconcile: venv ## Run the reconciliation once against the running local stack
	$(PY) -m local_runtime.invoke reconcile events/reconcile_schedule.json

.PHONY: bench
bench: local-deps build ## Speed, memory and DynamoDB work, each against an interleaved baseline; writes bench/results.json
	$(PY) -m bench

.PHONY: reliability
reliability: local-deps ## Replays, redeliveries, SES and DynamoDB faults, races and 100,000 refund sequences; writes bench/reliability.json
	$(PY) -m bench.reliability

.PHONY: clean
clean: ## Remove virtual environments, build output and caches
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov \
		node_modules .local

.PHONY: build
build: sam-venv ## sam build (no container), with Python 3.13 first on PATH
	PATH="$(dir $(PYTHON313)):$$PATH" $(SAM) build --cached
