#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install what is missing, build, run every
# test. Exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build --build-tests
# `swift test` under a watchdog: a hung test fails the run within minutes and is named,
# with the stacks of the test process, instead of using up the CI's time.
./scripts/swift-test-watchdog.py
# deploy/: every kustomization renders and every manifest validates against the
# Kubernetes schemas.
timeout --kill-after=30s 10m ./scripts/validate-deploy.sh
# deploy/components/monitoring: the alert rules and their unit tests (promtool), the
# dashboard, and the built daemon's live /metrics against them.
timeout --kill-after=30s 10m ./scripts/validate-monitoring.sh
# The image: built from deploy/Dockerfile (target runtime-prebuilt, with the debug binary
# built above) by buildah, run by podman as the Deployment runs it. Skipped, with the
# reason, where buildah/podman cannot run.
if reason=$(./scripts/image.sh preflight); then
    timeout --kill-after=30s 30m ./scripts/image.sh build
    timeout --kill-after=30s 10m ./scripts/image.sh test
else
    echo "test: image build and test skipped: $reason"
fi
