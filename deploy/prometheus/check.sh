#!/usr/bin/env bash
# Checks the Prometheus configuration of the fleet with promtool: both scrape configurations
# (compose and Kubernetes), the alert rules, and the alerts' unit tests. Exits non-zero on any failure.
# Needs promtool (Debian: apt-get install prometheus).
set -uo pipefail
cd "$(dirname "$0")"
PROMTOOL=${PROMTOOL:-promtool}
if ! command -v "$PROMTOOL" >/dev/null 2>&1; then
  echo "check.sh: promtool not found (apt-get install prometheus)" >&2
  exit 2
fi
failed=0
run() {
  echo "+ $*"
  if ! "$@"; then
    failed=1
  fi
}
run "$PROMTOOL" check config prometheus-compose.yml
# Debian's Prometheus is built without Kubernetes service discovery ("field kubernetes_sd_configs not
# found"). Where that is so, check a copy whose discovery block is swapped for a static target: every
# other part (relabelling, rule files) is still checked, and the swap is said out loud.
if "$PROMTOOL" check config prometheus-k8s.yml >/tmp/check-k8s.$$ 2>&1; then
  cat /tmp/check-k8s.$$
elif grep -q 'field kubernetes_sd_configs not found' /tmp/check-k8s.$$; then
  echo "+ $PROMTOOL check config prometheus-k8s.yml (this promtool lacks kubernetes_sd_configs: checking the rest)"
  tmp=$(mktemp -d)
  cp alerts.yml "$tmp/"
  sed -e 's/^    kubernetes_sd_configs:$/    static_configs:/' \
      -e 's/^      - role: pod$/      - targets: ["pod.invalid:9402"]/' prometheus-k8s.yml > "$tmp/prometheus-k8s.yml"
  if grep -q kubernetes_sd_configs "$tmp/prometheus-k8s.yml"; then
    echo "check.sh: cannot swap the discovery block of prometheus-k8s.yml" >&2
    failed=1
  fi
  run "$PROMTOOL" check config "$tmp/prometheus-k8s.yml"
  rm -rf "$tmp"
else
  cat /tmp/check-k8s.$$
  failed=1
fi
rm -f /tmp/check-k8s.$$
run "$PROMTOOL" check rules alerts.yml
run "$PROMTOOL" test rules alerts.test.yml
if [ "$failed" -ne 0 ]; then
  echo "check.sh: FAILED" >&2
  exit 1
fi
echo "check.sh: all promtool checks passed"
