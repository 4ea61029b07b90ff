#!/usr/bin/env bash
# Renders every kustomize overlay (and the cpu overlay with all optional components) with
# `kubectl kustomize`, and validates the output and docker-compose.yml offline (validate/validate.mjs:
# Kubernetes JSON schemas, unknown fields, the Compose Specification schema). Exits non-zero on any
# failure. Needs kubectl (or kustomize) and Node.js with npm; the first run installs validate/'s
# pinned packages from the npm registry (package-lock.json).
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
out=$(mktemp -d)
scratch="$here/.check-$$"
trap 'rm -rf "$out" "$scratch"' EXIT

if command -v kubectl >/dev/null 2>&1; then
  render() { kubectl kustomize "$1"; }
elif command -v kustomize >/dev/null 2>&1; then
  render() { kustomize build "$1"; }
else
  echo "check.sh: neither kubectl nor kustomize found" >&2
  exit 2
fi
command -v node >/dev/null 2>&1 || { echo "check.sh: node not found" >&2; exit 2; }

# A scratch overlay inside this folder (kustomize loads bases by relative path) that adds every
# optional component to the cpu overlay, so that the components are rendered and validated too.
mkdir -p "$scratch"
cat > "$scratch/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../overlays/cpu
components:
  - ../components/strimzi
  - ../components/hpa
  - ../components/podmonitor
  - ../components/shared-volume
YAML

args=()
for overlay in overlays/cpu overlays/gpu "$scratch"; do
  name=$(basename "$overlay")
  [ "$overlay" = "$scratch" ] && name=cpu-with-all-components
  echo "+ kustomize $name"
  render "$overlay" > "$out/$name.yaml"
  args+=(--k8s "$out/$name.yaml")
done

if [ ! -d validate/node_modules ] || [ validate/package-lock.json -nt validate/node_modules ]; then
  echo "+ npm ci (validate/)"
  (cd validate && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "+ node validate/validate.mjs"
node validate/validate.mjs "${args[@]}" --compose "$here/../../docker-compose.yml"
echo "check.sh: manifests and compose file valid"
