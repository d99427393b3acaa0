#!/usr/bin/env bash
# The main job on its embedded default, from a fresh machine: install what is missing,
# build, run. Extra arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release --product Benchmarks
exec .build/release/Benchmarks "$@"
