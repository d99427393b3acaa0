#!/usr/bin/env bash
# The main job on its embedded default, from a fresh machine: install what is missing,
# build, run `nfs-cluster-provisioner demo` (an in-process Kubernetes API server, local
# directories as NFS exports, the real engine). Extra arguments go to the demo
# (e.g. --members 5 --claims 40 --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build --product nfs-cluster-provisioner
exec "$(swift build --show-bin-path)/nfs-cluster-provisioner" demo "$@"
