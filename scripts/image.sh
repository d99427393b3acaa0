#!/usr/bin/env bash
# Builds the container image from deploy/Dockerfile and runs it, without a Docker engine
# and without a registry: buildah builds, podman (with runc) runs, and the Debian 12 base
# is made here with debootstrap.
#
#   scripts/image.sh build      base image (cached), then the `runtime-prebuilt` target
#                               with the daemon already built on this machine
#   scripts/image.sh test       runs the built image as uid 65532 with a read-only root:
#                               --version, ldd, check, ring locate, and run against an
#                               API server on the host until a claim is provisioned (its
#                               PV validated) and reclaimed
#   scripts/image.sh preflight  exit 0 if buildah and podman can work here, else print
#                               why not and exit 1 (scripts/test.sh uses it)
#
# The base: `debootstrap --variant=minbase bookworm` from the Debian mirror apt uses here,
# trimmed as debian:bookworm-slim is (no documentation, manual pages or locales), kept as
# .build/image/debian-bookworm-minbase-<recipe>.tar and imported into the local image
# store as $IMAGE_BASE. Neither is made again while it exists; delete both (the tarball,
# `podman rmi $IMAGE_BASE`) to refresh the base.
#
# The binary: $NCP_BIN (default .build/debug/nfs-cluster-provisioner, which
# `swift build` makes) is staged with the libraries ldd resolves for it outside the
# system's library directories (the toolchain's Swift runtime; none for a
# `--static-swift-stdlib` build) and the toolchain's swift-backtrace-static into
# .build/image/context, the build context of the target `runtime-prebuilt`. The host must be Debian 12 too, so that the C libraries the binary
# was linked against (glibc, libstdc++, libxxhash, libnfs) are the image's.
#
# Environment: IMAGE (default localhost/nfs-cluster-provisioner:dev), IMAGE_BASE (default
# localhost/nfs-cluster-provisioner-base:bookworm-minbase), NCP_BIN, DEBIAN_MIRROR and
# DEBIAN_SECURITY_MIRROR (default: the host's apt sources, then deb.debian.org).
# Exit: 0 done; 1 a build step or a test failed; 2 usage, or nothing to build or test.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

IMAGE="${IMAGE:-localhost/nfs-cluster-provisioner:dev}"
IMAGE_BASE="${IMAGE_BASE:-localhost/nfs-cluster-provisioner-base:bookworm-minbase}"
NCP_BIN="${NCP_BIN:-.build/debug/nfs-cluster-provisioner}"
CACHE=.build/image
# Bump when the base recipe below changes, so that a cached tarball is not reused.
BASE_RECIPE=1
BASE_TAR="$CACHE/debian-bookworm-minbase-$BASE_RECIPE.tar"
# What this VM accepts: the default crun and podman's default ulimits are refused.
PODMAN=(podman --runtime runc)
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

say() { echo "image: $*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s; }
elapsed() { echo "$(( $(now) - $1 )) s"; }

# preflight: why buildah/podman cannot work here, or nothing.
preflight_reason() {
    local tool
    for tool in buildah podman runc debootstrap; do
        command -v "$tool" >/dev/null 2>&1 || {
            echo "$tool is not installed (Debian: apt-get install buildah podman runc debootstrap)"; return; }
    done
    [ "$(id -u)" -eq 0 ] || { echo "not root: debootstrap and the image store need root here"; return; }
    local out
    out=$("${PODMAN[@]}" info 2>&1) || { echo "podman cannot run: $(tail -1 <<<"$out")"; return; }
    out=$(buildah info 2>&1) || { echo "buildah cannot run: $(tail -1 <<<"$out")"; return; }
}

# The first URI of the host's apt sources that serves SUITE, else DEFAULT.
apt_mirror() {
    local suite=$1 default=$2 uri
    uri=$(python3 - "$suite" <<'EOF' 2>/dev/null || true
import glob, sys
suite = sys.argv[1]
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        words = line.split("#")[0].split()
        if len(words) >= 3 and words[0] == "deb":
            rest = [w for w in words[1:] if not w.startswith("[")]
            if len(rest) >= 2 and rest[1] == suite:
                print(rest[0]); sys.exit()
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    try:
        stanzas = open(path).read().split("\n\n")
    except OSError:
        continue
    for stanza in stanzas:
        fields = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith((" ", "#")):
                key, value = line.split(":", 1)
                fields[key.strip()] = value.split()
        if "deb" in fields.get("Types", []) and suite in fields.get("Suites", []) and fields.get("URIs"):
            print(fields["URIs"][0]); sys.exit()
EOF
)
    echo "${uri:-$default}"
}

# The base image: a debootstrap minbase rootfs, trimmed, as a tarball, imported.
make_base() {
    if podman image exists "$IMAGE_BASE"; then
        say "base $IMAGE_BASE: present"
        return
    fi
    mkdir -p "$CACHE"
    if [ ! -f "$BASE_TAR" ]; then
        local mirror security rootfs start
        mirror=$(apt_mirror bookworm http://deb.debian.org/debian)
        security=$(apt_mirror bookworm-security http://deb.debian.org/debian-security)
        rootfs="$CACHE/rootfs"
        rm -rf "$rootfs"
        start=$(now)
        say "base: debootstrap --variant=minbase bookworm from $mirror (a few minutes; log $CACHE/debootstrap.log)"
        debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
            || { tail -5 "$CACHE/debootstrap.log" >&2; die "debootstrap failed; see $CACHE/debootstrap.log"; }
        # As debian:bookworm-slim: the release, its updates and security in deb822 form;
        # no documentation but the copyright files, no manual pages, no locales, and apt
        # keeps neither packages nor lists.
        rm -f "$rootfs/etc/apt/sources.list"
        cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
        cat >"$rootfs/etc/apt/apt.conf.d/slim-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
EOF
        # The point release debootstrap installs, brought up to date as the official
        # image is (the resolver is the host's for this step only).
        cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
        chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -q && apt-get upgrade -y -q' \
            >>"$CACHE/debootstrap.log" 2>&1 \
            || { tail -5 "$CACHE/debootstrap.log" >&2; die "apt-get upgrade in the new base failed; see $CACHE/debootstrap.log"; }
        find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
        find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
        rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian/*
        find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
        rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/tmp/*
        # The host's name and resolver are not the image's: the engine provides them.
        rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf" "$rootfs/etc/machine-id"
        tar --numeric-owner -C "$rootfs" -cf "$BASE_TAR.tmp" .
        mv "$BASE_TAR.tmp" "$BASE_TAR"
        rm -rf "$rootfs"
        say "base: $BASE_TAR made in $(elapsed "$start") ($(du -h "$BASE_TAR" | cut -f1))"
    fi
    podman import --quiet \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        "$BASE_TAR" "$IMAGE_BASE" >/dev/null
    say "base $IMAGE_BASE: imported from $BASE_TAR"
}

# The build context of `runtime-prebuilt`: bin/ (the daemon, swift-backtrace-static) and
# lib/ (the libraries ldd resolves for the daemon outside the system's library
# directories: the Swift runtime of the toolchain that built it). Libraries in /lib,
# /lib64 and /usr/lib are Debian's, which the image installs from packages.
stage_context() {
    [ -x "$NCP_BIN" ] || { say "$NCP_BIN is not an executable file; build it first (swift build)"; exit 2; }
    local ldd_out libs lib toolchain swift context
    # shellcheck disable=SC1091
    . /etc/os-release
    [ "${VERSION_CODENAME:-}" = bookworm ] \
        || say "warning: this host is ${PRETTY_NAME:-not Debian 12}; a binary built here may need a newer C library than the image's"
    ldd_out=$(ldd "$NCP_BIN")
    if grep -q 'not found' <<<"$ldd_out"; then
        grep 'not found' <<<"$ldd_out" >&2
        die "$NCP_BIN misses shared libraries on this host"
    fi
    libs=$(awk '$2 == "=>" && $3 ~ /^\// && $3 !~ /^\/(lib|lib64|usr\/lib)\// { print $3 }' <<<"$ldd_out")
    # The toolchain: the one whose runtime the binary loads, else (a static build) the
    # swift on PATH.
    lib=$(grep '/libswiftCore\.so$' <<<"$libs" || true)
    if [ -n "$lib" ]; then
        toolchain=$(cd "$(dirname "$lib")/../../.." && pwd)
    else
        swift=$(command -v swift) || die "swift is not on PATH: its toolchain's swift-backtrace-static goes into the image"
        toolchain=$(cd "$(dirname "$(readlink -f "$swift")")/.." && pwd)
    fi
    [ -f "$toolchain/libexec/swift/linux/swift-backtrace-static" ] \
        || die "no swift-backtrace-static under $toolchain/libexec/swift/linux"
    context="$CACHE/context"
    rm -rf "$context"
    mkdir -p "$context/bin" "$context/lib"
    cp "$NCP_BIN" "$context/bin/nfs-cluster-provisioner"
    cp "$toolchain/libexec/swift/linux/swift-backtrace-static" "$context/bin/"
    for lib in $libs; do cp "$lib" "$context/lib/"; done
    say "context: $NCP_BIN, swift-backtrace-static of $toolchain and $(find "$context/lib" -type f | wc -l) libraries ($(du -sh "$context" | cut -f1))"
}

# The image ID and those of its parents (buildah --layers keeps one per step), leaf first.
image_chain() {
    local id=$1
    while [ -n "$id" ]; do
        echo "$id"
        id=$(podman image inspect --format '{{.Parent}}' "$id" 2>/dev/null || true)
    done
}

image_size() {
    local bytes
    bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE")
    echo "$(( bytes / 1024 / 1024 )) MiB ($bytes bytes)"
}

cmd_build() {
    local reason start total old new
    reason=$(preflight_reason)
    [ -z "$reason" ] || die "cannot build here: $reason"
    total=$(now)
    make_base
    stage_context
    old=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
    start=$(now)
    say "buildah build -f deploy/Dockerfile --target runtime-prebuilt -t $IMAGE (log $CACHE/buildah.log)"
    # --layers keeps the apt layer of runtime-base between builds; --network host lets
    # apt reach the mirror; the Swift build stage is skipped (unused by this target).
    if ! buildah build --layers --network host --pull=never "${ULIMITS[@]}" \
            --build-arg RUNTIME_IMAGE="$IMAGE_BASE" \
            -f deploy/Dockerfile --target runtime-prebuilt -t "$IMAGE" "$CACHE/context" \
            >"$CACHE/buildah.log" 2>&1; then
        tail -20 "$CACHE/buildah.log" >&2
        die "buildah build failed; see $CACHE/buildah.log"
    fi
    new=$(podman image inspect --format '{{.Id}}' "$IMAGE")
    # The previous build of this tag and its cached steps, untagged now, are not kept
    # (each holds a copy of the binary); the steps it shares with the new one are.
    if [ -n "$old" ] && [ "$old" != "$new" ]; then
        local keep id
        keep=$(image_chain "$new")
        for id in $(image_chain "$old"); do
            grep -qx "$id" <<<"$keep" && break
            podman rmi "$id" >/dev/null 2>&1 || break
        done
    fi
    say "built $IMAGE in $(elapsed "$start") (all: $(elapsed "$total")): $(image_size)"
}

# run_container [PODMAN RUN OPTION...] -- ARG...: the image as the Deployment runs it:
# uid 65532, read-only root with only an in-memory /tmp, no capabilities, no privilege
# escalation.
RUN_AS_DEPLOYED=("${ULIMITS[@]}" --user 65532:65532
    --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,mode=1777
    --cap-drop all --security-opt no-new-privileges)
run_container() {
    local options=()
    while [ "$1" != "--" ]; do options+=("$1"); shift; done
    shift
    "${PODMAN[@]}" run --rm "${RUN_AS_DEPLOYED[@]}" ${options[@]+"${options[@]}"} "$IMAGE" "$@"
}

cmd_test() {
    local reason total start work out want code
    reason=$(preflight_reason)
    [ -z "$reason" ] || die "cannot test here: $reason"
    podman image exists "$IMAGE" || { say "no image $IMAGE; run scripts/image.sh build first"; exit 2; }
    total=$(now)
    work=$(mktemp -d /tmp/ncp-image-test.XXXXXX)
    # shellcheck disable=SC2064 # expand $work now
    trap "rm -rf '$work'" EXIT

    say "$IMAGE: $(image_size)"
    say "the image's user, filesystem and entry point:"
    podman image inspect --format '  User={{.Config.User}} Entrypoint={{.Config.Entrypoint}} Cmd={{.Config.Cmd}}' "$IMAGE" >&2
    [ "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")" = "65532:65532" ] \
        || die "the image's user is not 65532:65532"

    # --version: the image runs the staged binary.
    start=$(now)
    out=$(run_container --network none -- --version) || die "--version failed: $out"
    if [ -x "$NCP_BIN" ]; then
        want=$("$NCP_BIN" --version)
        [ "$out" = "$want" ] || die "--version in the image is '$out', the host binary's is '$want'"
    fi
    say "ok --version: $out"

    # ldd inside the image: every library found, and where.
    out=$(run_container --network none --entrypoint ldd -- /usr/local/bin/nfs-cluster-provisioner) \
        || die "ldd in the image failed: $out"
    echo "$out" | sed 's/^/  /' >&2
    ! grep -q 'not found' <<<"$out" || die "libraries missing in the image"
    say "ok ldd: $(grep -c '=>' <<<"$out") shared libraries, all found"

    # check: two exports bind-mounted (mount points, as in a pod), owned by the runtime
    # user as on a server with root_squash; a third member has no mount.
    mkdir -p "$work/exports/nfs-a" "$work/exports/nfs-b" "$work/config"
    chown 65532:65532 "$work/exports/nfs-a" "$work/exports/nfs-b"
    cat >"$work/config/config.yaml" <<'EOF'
provisionerName: example.com/nfs
members:
  - name: nfs-a
    address: nfs-a.example.com
    export: /exports/k8s
  - name: nfs-b
    address: nfs-b.example.com
    export: /exports/k8s
EOF
    sed -e '$a\  - name: nfs-c\n    address: nfs-c.example.com\n    export: /exports/k8s' \
        "$work/config/config.yaml" >"$work/config/three-members.yaml"
    local mounts=(-v "$work/exports/nfs-a:/persistent-volumes/nfs-a"
                  -v "$work/exports/nfs-b:/persistent-volumes/nfs-b"
                  -v "$work/config:/etc/nfs-cluster-provisioner:ro")
    out=$(run_container --network none "${mounts[@]}" -- \
        check --config /etc/nfs-cluster-provisioner/config.yaml --output json) \
        || die "check failed on two mounted exports: $out"
    python3 - "$out" <<'EOF' || die "check's report is not two passing members: $out"
import json, sys
report = json.loads(sys.argv[1])
assert report["ok"] is True, report
assert sorted((m["member"], m["ok"]) for m in report["members"]) == [("nfs-a", True), ("nfs-b", True)]
EOF
    say "ok check: nfs-a and nfs-b pass"
    code=0
    out=$(run_container --network none "${mounts[@]}" -- \
        check --config /etc/nfs-cluster-provisioner/three-members.yaml) || code=$?
    [ "$code" -eq 1 ] || die "check with an unmounted member exited $code, not 1: $out"
    grep -q nfs-c <<<"$out" || die "check's table does not name the unmounted member nfs-c: $out"
    say "ok check: exits 1 on nfs-c, which has no mount"

    # ring locate: the image places claims as the host binary does.
    out=$(run_container --network none -v "$work/config:/etc/nfs-cluster-provisioner:ro" -- \
        ring locate --config /etc/nfs-cluster-provisioner/config.yaml shop/data-0 shop/data-1 team-a/db) \
        || die "ring locate failed: $out"
    echo "$out" | sed 's/^/  /' >&2
    if [ -x "$NCP_BIN" ]; then
        want=$("$NCP_BIN" ring locate --config "$work/config/config.yaml" shop/data-0 shop/data-1 team-a/db)
        [ "$out" = "$want" ] || die "ring locate in the image differs from the host binary's:\n$want"
    fi
    out=$(run_container --network none -- ring locate --members 10.0.0.1,10.0.0.2,10.0.0.3 --output json default/data) \
        || die "ring locate --members failed: $out"
    grep -q '10.0.0.' <<<"$out" || die "ring locate --members names no member: $out"
    say "ok ring locate"
    say "version, ldd, check, ring: $(elapsed "$start")"

    # run: against an in-memory API server on the host (scripts/image-run-test.py) until a
    # claim is provisioned, its PV validated, then reclaimed; SIGTERM exits 0.
    start=$(now)
    local name
    name="ncp-image-test-$$"
    # shellcheck disable=SC2064
    trap "podman rm -f -i '$name' >/dev/null 2>&1 || true; rm -rf '$work'" EXIT
    python3 -u scripts/image-run-test.py --work "$work" --exports "$work/exports" -- \
        "${PODMAN[@]}" run --rm --name "$name" "${RUN_AS_DEPLOYED[@]}" --network host \
        -e POD_NAME=nfs-cluster-provisioner-0 -e POD_NAMESPACE=nfs-cluster-provisioner \
        "${mounts[@]}" -v "$work/kube:/etc/kube:ro" \
        "$IMAGE" run --config /etc/nfs-cluster-provisioner/config.yaml --kubeconfig /etc/kube/kubeconfig \
        --http-address 127.0.0.1:0 --log-format json --min-free 0 \
        --lease-duration 4 --renew-deadline 3 --retry-period 0.5 \
        || die "run in the image failed"
    say "ok run: $(elapsed "$start")"
    say "image test passed in $(elapsed "$total"); $IMAGE is $(image_size)"
}

case "${1:-}" in
    build) cmd_build ;;
    test) cmd_test ;;
    preflight)
        reason=$(preflight_reason)
        if [ -n "$reason" ]; then echo "$reason"; exit 1; fi
        ;;
    *) echo "usage: $0 build|test|preflight" >&2; exit 2 ;;
esac
