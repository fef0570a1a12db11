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

# Every virtual environment, and the layer, installs from a lock: each package at one
# version with the registry's sha256 hashes, its dependencies' too, and pip
# --require-hashes refuses anything else. pyproject.toml lists the direct dependencies,
# with ranges; `make lock` (below) writes the locks from it.
DEV_LOCK := requirements/dev.txt
LAYER_LOCK := layers/domain/python/requirements.txt
SAM_LOCK := requirements/aws-sam-cli.txt
CHECKOV_LOCK := requirements/checkov.txt
# The Lambda runtime provides these; the layer must not bring its own.
LAMBDA_PROVIDES := boto3 botocore s3transfer

# .venv is the lock and nothing else (pip itself is in it): the project is not installed,
# it has no package (pytest and the make targets find the code through pythonpath and the
# working directory).
$(VENV)/.installed: $(DEV_LOCK) | check-python
	"$(PYTHON313)" -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --requirement $(DEV_LOCK)
	touch $@

$(SAM_VENV)/.installed: $(SAM_LOCK) | check-python
	"$(PYTHON313)" -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --require-hashes --requirement $(SAM_LOCK)
	touch $@

# Run by every target that uses .venv: fails, naming what, when pyproject.toml asks for a
# package or version that the locks do not have (it was edited without `make lock`), when
# the layer's lock has a package that the Lambda runtime provides or another version than
# .venv's.
define LOCK_CHECK
import re, sys, tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

def pins(lock):
    with open(lock) as f:
        found = re.findall(r"^([A-Za-z0-9._-]+)==([^\s;]+)", f.read(), re.MULTILINE)
    return {canonicalize_name(n): v for n, v in found}

dev_lock, layer_lock, *provided = sys.argv[1:]
provided = {canonicalize_name(n) for n in provided}
with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
runtime = [Requirement(r) for r in project["dependencies"]]
dev = runtime + [Requirement(r) for r in project["optional-dependencies"]["dev"]]
layer = [r for r in runtime if canonicalize_name(r.name) not in provided]
dev_pins, layer_pins = pins(dev_lock), pins(layer_lock)
problems = []
for lock, locked, wanted in ((dev_lock, dev_pins, dev), (layer_lock, layer_pins, layer)):
    for r in wanted:
        v = locked.get(canonicalize_name(r.name))
        if v is None or not r.specifier.contains(v, prereleases=True):
            problems.append(f"{lock} has {r.name} {v or 'not at all'}, pyproject.toml asks for {r}")
for name, v in sorted(layer_pins.items()):
    if name in provided:
        problems.append(f"{layer_lock} has {name}, which the Lambda runtime provides")
    elif dev_pins.get(name) != v:
        problems.append(f"{layer_lock} has {name} {v}, {dev_lock} {dev_pins.get(name)}")
if problems:
    sys.exit("The locks do not match pyproject.toml: run make lock\n  " + "\n  ".join(problems))
endef
export LOCK_CHECK

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv: the app and its dev tools
	@$(PY) -c "$$LOCK_CHECK" $(DEV_LOCK) $(LAYER_LOCK) $(LAMBDA_PROVIDES)

# Only building and validating the template need aws-sam-cli; make dev never does.
.PHONY: sam-venv
sam-venv: $(SAM_VENV)/.installed ## Create .venv-sam: aws-sam-cli, apart because it pins boto3 and pydantic low
	@grep -q '^aws-sam-cli==$(SAM_CLI_VERSION) ' $(SAM_LOCK) || { \
		echo "$(SAM_LOCK) does not have aws-sam-cli $(SAM_CLI_VERSION): run make lock" >&2; exit 1; }

# The locks are written by uv (a dev tool in .venv), not pip-tools: uv resolves for a
# platform and a Python that it is told, so the layer's lock is for Lambda (CPython 3.13,
# manylinux x86_64) and the others for every OS (--universal) whatever machine runs
# `make lock`, where pip-compile resolves only for the interpreter that runs it; uv reads
# pyproject.toml itself and installs from the registry as one wheel with no dependencies.
# pip still does every install (uv is needed only here). uv does not read pip's
# configuration: it asks PyPI, or the index in UV_DEFAULT_INDEX.
#
# `make lock` needs the package registry. It writes pyproject.toml's dependencies and dev
# extra into requirements/dev.txt; the same less LAMBDA_PROVIDES, at requirements/dev.txt's
# versions, into the layer's requirements.txt; aws-sam-cli and checkov into their own.
# Every version already locked stays while pyproject.toml allows it: UPGRADE=1 takes the
# newest that pyproject.toml allows of every package, UPGRADE="name ..." of those only.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.13 \
	--custom-compile-command 'make lock' \
	$(if $(filter 1,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),--upgrade-package $(p)))

define LAYER_REQUIREMENTS
import sys, tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

provided = {canonicalize_name(n) for n in sys.argv[1:]}
with open("pyproject.toml", "rb") as f:
    for r in tomllib.load(f)["project"]["dependencies"]:
        if canonicalize_name(Requirement(r).name) not in provided:
            print(r)
endef
export LAYER_REQUIREMENTS

.PHONY: lock
lock: $(VENV)/.installed ## Write the locks again from pyproject.toml (needs the registry; UPGRADE=1 for newer versions)
	$(UV_COMPILE) --universal --extra dev --output-file $(DEV_LOCK) pyproject.toml
	$(PY) -c "$$LAYER_REQUIREMENTS" $(LAMBDA_PROVIDES) | $(UV_COMPILE) \
		--python-platform x86_64-manylinux_2_17 --constraint $(DEV_LOCK) --output-file $(LAYER_LOCK) -
	echo 'aws-sam-cli==$(SAM_CLI_VERSION)' | $(UV_COMPILE) --universal --output-file $(SAM_LOCK) -
	echo 'checkov==$(CHECKOV_VERSION)' | $(UV_COMPILE) --universal --output-file $(CHECKOV_LOCK) -
	$(PY) -c "$$LOCK_CHECK" $(DEV_LOCK) $(LAYER_LOCK) $(LAMBDA_PROVIDES)

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

$(CHECKOV_VENV)/.installed: $(CHECKOV_LOCK) | check-python
	@grep -q '^checkov==$(CHECKOV_VERSION) ' $(CHECKOV_LOCK) || { \
		echo "$(CHECKOV_LOCK) does not have checkov $(CHECKOV_VERSION): run make lock" >&2; exit 1; }
	"$(PYTHON313)" -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --require-hashes --requirement $(CHECKOV_LOCK)
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
	$(PY) -m scripts.openapi --output docs/openapi.json

SELLER ?= seller-acme
SCOPES ?= orders.read orders.write
.PHONY: token
token: venv ## Mint a local token: make token SELLER=seller-acme SCOPES="orders.read orders.write"
	@$(PY) -m local_runtime.commands.token --seller "$(SELLER)" --scopes "$(SCOPES)"

.PHONY: invoke
invoke: venv ## Run one function on a sample event against the running local stack: make invoke FN=list_orders EVENT=events/list_orders.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=events/<file>.json" >&2; exit 2; }
	$(PY) -m local_runtime.commands.invoke "$(FN)" "$(EVENT)"

.PHONY: reconcile
reconcile: venv ## Run the reconciliation once against the running local stack
	$(PY) -m local_runtime.commands.invoke reconcile events/reconcile_schedule.json

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
