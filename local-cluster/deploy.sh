#!/usr/bin/env bash
# Installs the Helm chart onto the local cluster with the images `make images` built
# (their content-addressed names, so the pods run exactly those builds), or removes it.
#   deploy.sh install [helm upgrade flags...]    deploy.sh uninstall
source "$(dirname "$0")/lib.sh"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
HELM="$(bash "$(dirname "$0")/helm.sh")"
RELEASE="${RELEASE:-execution-operator}"
RELEASE_NAMESPACE="${RELEASE_NAMESPACE:-execution-operator}"
RUNNER_IMAGE="${RUNNER_IMAGE:-localhost/execution-runner:dev}"
OPERATOR_IMAGE="${OPERATOR_IMAGE:-localhost/execution-operator:dev}"
OPERATOR_CONTEXT="${OPERATOR_CONTEXT:-$REPO/build/operator-image}"
helm_() { "$HELM" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# CRDs applied earlier with kubectl (make install, the tests) are handed to the release,
# the same step a cluster that installed them by hand takes once (see the chart README).
adopt_crds() {
  local crd
  for crd in executions.execution-operator.io clusterkopfpeerings.kopf.dev kopfpeerings.kopf.dev; do
    kctl get crd "$crd" >/dev/null 2>&1 || continue
    kctl label --overwrite crd "$crd" app.kubernetes.io/managed-by=Helm >/dev/null
    kctl annotate --overwrite crd "$crd" meta.helm.sh/release-name="$RELEASE" \
      meta.helm.sh/release-namespace="$RELEASE_NAMESPACE" >/dev/null
  done
}

ref() { bash "$(dirname "$0")/image.sh" --ref "$@"; }
case "${1:-}" in
  install)
    shift
    runner="$(ref "$RUNNER_IMAGE" "$REPO/runner_image/Dockerfile" "$REPO/runner_image")"
    operator="$(ref "$OPERATOR_IMAGE" "$REPO/operator/Dockerfile" "$OPERATOR_CONTEXT")"
    adopt_crds
    helm_ upgrade --install "$RELEASE" "$REPO/charts/execution-operator" \
      --namespace "$RELEASE_NAMESPACE" --create-namespace --wait --timeout 3m \
      --set image.repository="${operator%:*}" --set image.tag="${operator##*:}" \
      --set image.pullPolicy=Never \
      --set runner.image.repository="${runner%:*}" --set runner.image.tag="${runner##*:}" \
      --set runner.pullPolicy=Never "$@"
    log "deployed $RELEASE in namespace $RELEASE_NAMESPACE (operator $operator, runner $runner)"
    ;;
  uninstall)
    helm_ uninstall "$RELEASE" --namespace "$RELEASE_NAMESPACE" --wait --ignore-not-found
    ;;
  *) die "usage: deploy.sh install|uninstall" ;;
esac
