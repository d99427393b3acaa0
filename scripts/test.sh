#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install what is missing, build, run every
# test. Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build --build-tests
swift test
# deploy/: every kustomization renders and every manifest validates against the
# Kubernetes schemas.
./scripts/validate-deploy.sh
