# execution-operator — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
CLUSTER     := local-cluster
STATE_DIR   ?= $(or $(LOCAL_CLUSTER_STATE),/var/lib/execution-operator-cluster)
KUBECONFIG_FILE := $(STATE_DIR)/kubeconfig
RUNNER_IMAGE   ?= localhost/execution-runner:dev
OPERATOR_IMAGE ?= localhost/execution-operator:dev
PYTEST_ARGS ?=

##@ Getting started
.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
	  /^[a-zA-Z0-9_.-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: demo
demo: cluster-up venv images ## Local cluster + operator + examples/hello.yaml, then print its result.
	@$(MAKE) -s install KUBECONFIG="$(KUBECONFIG_FILE)"
	@$(PY) scripts/demo.py --kubeconfig "$(KUBECONFIG_FILE)" --example examples/hello.yaml \
	  --runner-image "$(RUNNER_IMAGE)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv with the project and its dev tools.

##@ Development
.PHONY: lint
lint: venv ## ruff (lint and format check) and mypy --strict on both packages.
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: fmt
fmt: venv ## Format and auto-fix with ruff.
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: crds
crds: venv ## Regenerate crds/ from the pydantic models.
	$(PY) -m execution_operator.crd > crds/executions.execution-operator.io.yaml
	cp crds/*.yaml charts/execution-operator/files/crds/

.PHONY: test-unit
test-unit: venv ## Tests that need no cluster (unit and runner/collector processes).
	$(VENV)/bin/pytest -m "not cluster" $(PYTEST_ARGS)

.PHONY: test
test: lint cluster-up ## Everything: lint, unit, integration and e2e on the real local cluster.
	@# pytest's exit status is kept for .ci/run, which treats 5 (no tests) as a failure.
	KUBECONFIG="$(KUBECONFIG_FILE)" $(VENV)/bin/pytest --ignore=tests/faults $(PYTEST_ARGS); rc=$$?; echo $$rc > .pytest-exit; exit $$rc

E2E_LOCK ?= /var/lib/execution-operator-e2e.lock
.PHONY: test-faults
test-faults: venv cluster-up ## Fault, load and hostile-code suite on the local cluster (FAULTS_FULL=1: full counts); figures in bench/results/faults.json.
	@# It stops and starts cluster components: the machine-wide e2e lock is held throughout.
	KUBECONFIG="$(KUBECONFIG_FILE)" flock $(E2E_LOCK) $(VENV)/bin/pytest tests/faults -m faults -p no:cacheprovider $(PYTEST_ARGS)

.PHONY: bench bench-quick
bench: venv cluster-up ## Benchmarks at the full counts; results in bench/results/ (latest.md).
	KUBECONFIG="$(KUBECONFIG_FILE)" $(PY) -m bench --out bench/results

bench-quick: venv cluster-up ## Benchmarks at reduced counts (a few minutes); bench/results/.
	KUBECONFIG="$(KUBECONFIG_FILE)" $(PY) -m bench --quick --out bench/results

##@ Local cluster (real kube-apiserver, kubelet, containerd in a network namespace)
.PHONY: cluster-up
cluster-up: ## Build (cached) and start the local single-node cluster; wait until Ready.
	@bash $(CLUSTER)/up.sh

.PHONY: cluster-down
cluster-down: ## Stop every process the harness started; remove its namespace and mounts.
	@bash $(CLUSTER)/down.sh

.PHONY: kubeconfig
kubeconfig: ## Print the absolute path of the local cluster's admin kubeconfig.
	@echo "$(KUBECONFIG_FILE)"

.PHONY: image
image: ## Build DOCKERFILE (context CONTEXT) as IMAGE and load it into the cluster.
	@bash $(CLUSTER)/image.sh "$(IMAGE)" "$(DOCKERFILE)" "$(CONTEXT)"

##@ Operator
OPERATOR_CONTEXT := build/operator-image
.PHONY: operator-wheels
operator-wheels: venv ## Wheels of the project and its dependencies: the operator image's build context.
	@# A fixed timestamp makes the project's wheel byte-identical for identical sources,
	@# so an unchanged tree is not rebuilt; build/lib is cleared so no stale module ships.
	@rm -rf $(OPERATOR_CONTEXT)/wheels build/lib build/bdist.*
	@SOURCE_DATE_EPOCH=315532800 $(PY) -m pip wheel --quiet --disable-pip-version-check \
	  --wheel-dir $(OPERATOR_CONTEXT)/wheels . pip 2>&1 | grep -v "^WARNING: Location" || true
	@test -n "$$(ls $(OPERATOR_CONTEXT)/wheels/execution_operator-*.whl)"

.PHONY: images
images: cluster-up operator-wheels ## Build the runner and operator images and load them into the local cluster.
	@bash $(CLUSTER)/image.sh "$(RUNNER_IMAGE)" runner_image/Dockerfile runner_image
	@bash $(CLUSTER)/image.sh "$(OPERATOR_IMAGE)" operator/Dockerfile $(OPERATOR_CONTEXT)

.PHONY: helm
helm: venv ## Fetch the pinned helm binary into the cache; print its path.
	@PYTHON=$(PY) bash $(CLUSTER)/helm.sh

.PHONY: deploy
deploy: images helm ## Install the Helm chart onto the local cluster with the local images (HELM_ARGS: more flags).
	@RUNNER_IMAGE="$(RUNNER_IMAGE)" OPERATOR_IMAGE="$(OPERATOR_IMAGE)" \
	  OPERATOR_CONTEXT="$(OPERATOR_CONTEXT)" bash $(CLUSTER)/deploy.sh install $(HELM_ARGS)

.PHONY: undeploy
undeploy: helm ## Uninstall the chart from the local cluster (the CRD stays: crds.keep).
	@bash $(CLUSTER)/deploy.sh uninstall

.PHONY: install
install: ## Install the CRDs into the cluster of KUBECONFIG (default: the local cluster).
	kubectl --kubeconfig "$(or $(KUBECONFIG),$(KUBECONFIG_FILE))" apply -f crds/
	kubectl --kubeconfig "$(or $(KUBECONFIG),$(KUBECONFIG_FILE))" wait --for=condition=Established \
	  crd/executions.execution-operator.io --timeout=60s

.PHONY: run
run: venv ## Run the operator in the foreground against the local cluster.
	KUBECONFIG="$(KUBECONFIG_FILE)" EXECUTION_OPERATOR_RUNNER_IMAGE="$(RUNNER_IMAGE)" \
	  EXECUTION_OPERATOR_LISTEN_ADDRESS=127.0.0.1 $(PY) -m execution_operator
