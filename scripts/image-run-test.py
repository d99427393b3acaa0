#!/usr/bin/env python3
"""The `run` part of `scripts/image.sh test`: serves an in-memory Kubernetes API on the
host, starts the daemon COMMAND (a `podman run` of the image, which reaches the API over
the host network), and checks that a claim is provisioned and reclaimed by it.

The API server is the one of scripts/scrape-metrics.py (imported from it, not copied):
PersistentVolumeClaims, PersistentVolumes, StorageClasses, Events and Leases in memory,
list/watch/get/create/update/merge-patch/delete with finalizers. This script plays the
PV controller's part: it binds the new PV to its claim, and marks it Released when the
claim is deleted.

The story, with the exports of --exports (one directory per member, bind-mounted by
COMMAND at /persistent-volumes/<member>):
  1. a StorageClass `nfs-delete` (onDelete: delete) and a claim shop/data-0 on it;
  2. the daemon takes the Lease and creates the claim's PV: the PV passes
     scripts/validate-objects.sh, names the member's address and export, and its
     directory exists in that member's export on the host, made by uid 65532;
  3. the claim is deleted, the PV Released: the daemon removes the directory and the
     PV's finalizer, so the PV is gone;
  4. SIGTERM to COMMAND (podman passes it on): the daemon exits 0.

Usage: scripts/image-run-test.py --work DIR --exports DIR [--timeout S] -- COMMAND...
  writes DIR/kube/kubeconfig (the API server's address) before starting COMMAND.
Exit: 0 passed; 1 a check failed (with the daemon's last log lines).
"""
import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("scrape_metrics", os.path.join(HERE, "scrape-metrics.py"))
api = importlib.util.module_from_spec(spec)
spec.loader.exec_module(api)

RUNTIME_UID = 65532


class Failed(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True)
    parser.add_argument("--exports", required=True)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no daemon command after --")

    store = api.Store()
    api.Handler.store = store
    server = ThreadingHTTPServer(("127.0.0.1", 0), api.Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    kube = os.path.join(args.work, "kube")
    os.makedirs(kube, exist_ok=True)
    with open(os.path.join(kube, "kubeconfig"), "w", encoding="utf-8") as f:
        f.write(f"apiVersion: v1\nkind: Config\nclusters:\n- name: host\n  cluster:\n    server: {url}\n"
                f"contexts:\n- name: host\n  context:\n    cluster: host\n    user: host\n"
                f"current-context: host\nusers:\n- name: host\n  user: {{}}\n")
    os.chmod(os.path.join(kube, "kubeconfig"), 0o644)

    store.create("storageclasses", None, api.storage_class("nfs-delete", {"onDelete": "delete"}))
    claim = store.create("persistentvolumeclaims", "shop", api.claim("shop", "data-0", "nfs-delete"))
    pv_name = "pvc-" + claim["metadata"]["uid"]

    log_path = os.path.join(args.work, "daemon.log")
    log = open(log_path, "w+", encoding="utf-8")
    process = subprocess.Popen(command, stdout=log, stderr=log)

    def tail(lines=30):
        with open(log_path, encoding="utf-8", errors="replace") as f:
            return "\n".join(f.read().splitlines()[-lines:])

    deadline = time.monotonic() + args.timeout

    def wait(what, condition):
        while True:
            if process.poll() is not None:
                raise Failed(f"the container exited with {process.returncode} while waiting for {what}")
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise Failed(f"timed out waiting for {what}")
            time.sleep(0.2)

    def get(plural, namespace, name):
        try:
            return store.get(plural, namespace, name)
        except api.ApiError:
            return None

    try:
        started = time.monotonic()
        wait("the daemon to take the Lease",
             lambda: (get("leases", "nfs-cluster-provisioner", "example.com-nfs") or {}).get("spec", {}).get("holderIdentity"))
        pv = wait(f"the PV {pv_name} of claim shop/data-0", lambda: get("persistentvolumes", None, pv_name))
        print(f"image-run-test: PV {pv_name} created {time.monotonic() - started:.1f} s after the container started")

        pv_file = os.path.join(args.work, "pv.json")
        with open(pv_file, "w", encoding="utf-8") as f:
            json.dump(pv, f, indent=2)
        validated = subprocess.run([os.path.join(HERE, "validate-objects.sh"), pv_file],
                                   capture_output=True, text=True)
        print(validated.stdout.strip())
        if validated.returncode != 0:
            raise Failed(f"scripts/validate-objects.sh rejects the PV:\n{validated.stdout}{validated.stderr}")

        annotations = pv["metadata"].get("annotations", {})
        member = annotations.get("nfs-cluster-provisioner.io/member")
        directory = annotations.get("nfs-cluster-provisioner.io/directory")
        if member not in ("nfs-a", "nfs-b") or not directory:
            raise Failed(f"the PV records member {member!r}, directory {directory!r}")
        nfs = pv["spec"].get("nfs", {})
        want = {"server": f"{member}.example.com", "path": f"/exports/k8s/{directory}"}
        if {k: nfs.get(k) for k in want} != want:
            raise Failed(f"the PV's spec.nfs is {nfs}, not {want}")
        host_dir = os.path.join(args.exports, member, directory)
        if not os.path.isdir(host_dir):
            raise Failed(f"{host_dir} does not exist: the container did not create the volume's directory in the export")
        st = os.stat(host_dir)
        if st.st_uid != RUNTIME_UID:
            raise Failed(f"{host_dir} belongs to uid {st.st_uid}, not the runtime user {RUNTIME_UID}")
        print(f"image-run-test: {member}:{directory} exists on the host export, owned by {st.st_uid}, mode {st.st_mode & 0o7777:04o}")

        # The PV controller's part: bind, then release on the claim's deletion.
        pv["status"] = {"phase": "Bound"}
        store.replace("persistentvolumes", None, pv_name, pv)
        current = store.get("persistentvolumeclaims", "shop", "data-0")
        current["spec"]["volumeName"] = pv_name
        current["status"] = {"phase": "Bound", "accessModes": ["ReadWriteMany"], "capacity": {"storage": "1Gi"}}
        store.replace("persistentvolumeclaims", "shop", "data-0", current)
        store.delete("persistentvolumeclaims", "shop", "data-0", None)
        pv = store.get("persistentvolumes", None, pv_name)
        pv["status"] = {"phase": "Released"}
        store.replace("persistentvolumes", None, pv_name, pv)
        wait(f"the Released PV {pv_name} to be reclaimed and deleted",
             lambda: get("persistentvolumes", None, pv_name) is None)
        if os.path.exists(host_dir):
            raise Failed(f"the PV is gone but {host_dir} is still there (class onDelete: delete)")
        print(f"image-run-test: claim deleted: the PV is gone and {member}:{directory} removed")

        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise Failed("the container did not stop within 60 s of SIGTERM") from None
        if code != 0:
            raise Failed(f"the container exited with {code} after SIGTERM")
        print("image-run-test: SIGTERM: the daemon exited 0")
        return 0
    except Failed as error:
        print(f"image-run-test: {error}\nthe daemon's last lines:\n{tail()}", file=sys.stderr)
        return 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
        with store.lock:
            store.closed = True
            store.lock.notify_all()
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
