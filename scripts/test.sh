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
# deploy/components/monitoring: the alert rules and their unit tests (promtool), the
# dashboard, and the built daemon's live /metrics against them.
./scripts/validate-monitoring.sh
# The image: built from deploy/Dockerfile (target runtime-prebuilt, with the debug binary
# built above) by buildah, run by podman as the Deployment runs it. Skipped, with the
# reason, where buildah/podman cannot run.
if reason=$(./scripts/image.sh preflight); then
    ./scripts/image.sh build
    ./scripts/image.sh test
else
    echo "test: image build and test skipped: $reason"
fi
