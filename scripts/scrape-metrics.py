#!/usr/bin/env python3
"""Starts the built daemon against a small in-memory Kubernetes API server, drives it
through a scenario that touches every metric the daemon exports, and writes one scrape
of its /metrics endpoint.

The API server here is a stand-in written for this purpose only (the real LocalCluster
lives inside the Swift test and demo processes and cannot be started on its own): it
keeps PersistentVolumeClaims, PersistentVolumes, StorageClasses, Events and Leases in
memory and serves list, watch (chunked JSON lines), get, create, update (PUT, with the
resourceVersion precondition), merge patch and delete (finalizers hold an object until
they are removed). It plays the PV controller's part only as far as the scenario needs:
it binds a new PV to its claim and marks the PV Released when the scenario deletes
the claim.

The scenario, on three members (local directories, `--allow-unmounted-exports`):
  * nfs-a, nfs-b healthy; nfs-c's export directory does not exist -> unhealthy;
  * claims on a `delete` and an `archive` class -> provisioned (outcome success);
  * a claim on a class with a misspelt parameter -> outcome refused;
  * a claim whose PV the API server rejects (403, as an admission webhook would) ->
    outcome failed, retried with backoff;
  * two bound claims deleted -> reclaimed (delete outcome success, policies delete and
    archive);
  * a Released PV of ours on a member no longer configured -> delete outcome failed.
It waits until /metrics shows all of that, then saves the scrape and stops the daemon
with SIGTERM (which must exit 0).

Usage: scripts/scrape-metrics.py --daemon BIN --out FILE [--timeout SECONDS]
Exit: 0 scrape written; 1 the daemon misbehaved (exited, refused its arguments, an
expected series never appeared, a non-zero exit on SIGTERM), with its last log lines;
2 the binary is missing or cannot be executed.
"""
import argparse
import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PROVISIONER = "example.com/nfs"

# (url prefix, plural, kind, apiVersion, namespaced)
RESOURCES = [
    ("/api/v1", "persistentvolumeclaims", "PersistentVolumeClaim", "v1", True),
    ("/api/v1", "persistentvolumes", "PersistentVolume", "v1", False),
    ("/api/v1", "events", "Event", "v1", True),
    ("/apis/storage.k8s.io/v1", "storageclasses", "StorageClass", "storage.k8s.io/v1", False),
    ("/apis/coordination.k8s.io/v1", "leases", "Lease", "coordination.k8s.io/v1", True),
]
BY_PLURAL = {r[1]: r for r in RESOURCES}


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class ApiError(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.body = status(code, reason, message)
        self.code = code


class Store:
    """Objects by (plural, namespace, name), a global resourceVersion and an event log."""

    def __init__(self):
        self.lock = threading.Condition()
        self.rv = 100
        self.objects = {}
        self.log = []  # (rv, plural, namespace, type, object)
        self.requests = []  # (method, path)
        self.reject_pv_names = set()
        self.closed = False

    def _commit(self, plural, obj, event_type):
        self.rv += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self.rv)
        key = (plural, meta.get("namespace", ""), meta["name"])
        if event_type == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.log.append((self.rv, plural, meta.get("namespace", ""), event_type, copy.deepcopy(obj)))
        self.lock.notify_all()
        return copy.deepcopy(obj)

    def list(self, plural, namespace):
        with self.lock:
            items = [copy.deepcopy(o) for (p, ns, _), o in sorted(self.objects.items())
                     if p == plural and (namespace is None or ns == namespace)]
            return items, str(self.rv)

    def get(self, plural, namespace, name):
        with self.lock:
            obj = self.objects.get((plural, namespace or "", name))
            if obj is None:
                raise ApiError(404, "NotFound", f'{plural} "{name}" not found')
            return copy.deepcopy(obj)

    def create(self, plural, namespace, obj):
        _, _, kind, api_version, namespaced = BY_PLURAL[plural]
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if not meta.get("name"):
            raise ApiError(422, "Invalid", "metadata.name: Required value")
        if namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        obj["kind"], obj["apiVersion"] = kind, api_version
        with self.lock:
            if plural == "persistentvolumes" and meta["name"] in self.reject_pv_names:
                raise ApiError(403, "Forbidden", f'admission webhook "volumes.example.com" denied the request: '
                                                 f'persistentvolume {meta["name"]} is not allowed (scenario fault)')
            if (plural, namespace or "", meta["name"]) in self.objects:
                raise ApiError(409, "AlreadyExists", f'{plural} "{meta["name"]}" already exists')
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            meta.pop("deletionTimestamp", None)
            return self._commit(plural, obj, "ADDED")

    def replace(self, plural, namespace, name, obj, precondition_rv=None):
        with self.lock:
            current = self.objects.get((plural, namespace or "", name))
            if current is None:
                raise ApiError(404, "NotFound", f'{plural} "{name}" not found')
            wanted = precondition_rv if precondition_rv is not None else obj.get("metadata", {}).get("resourceVersion")
            if wanted and wanted != current["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{name}": '
                                                f'the object has been modified; please apply your changes to the latest version and try again')
            obj = copy.deepcopy(obj)
            for field in ("uid", "creationTimestamp", "deletionTimestamp", "namespace", "name"):
                if field in current["metadata"]:
                    obj.setdefault("metadata", {})[field] = current["metadata"][field]
            obj["kind"], obj["apiVersion"] = current["kind"], current["apiVersion"]
            if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
                return self._commit(plural, obj, "DELETED")
            return self._commit(plural, obj, "MODIFIED")

    def patch(self, plural, namespace, name, patch):
        with self.lock:
            current = self.get(plural, namespace, name)
            wanted = (patch.get("metadata") or {}).get("resourceVersion")
            merged = merge_patch(current, patch)
            merged["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            return self.replace(plural, namespace, name, merged, precondition_rv=wanted)

    def delete(self, plural, namespace, name, options):
        with self.lock:
            current = self.get(plural, namespace, name)
            uid = ((options or {}).get("preconditions") or {}).get("uid")
            if uid and uid != current["metadata"]["uid"]:
                raise ApiError(409, "Conflict", f'Precondition failed: UID in precondition: {uid}, UID in object meta: {current["metadata"]["uid"]}')
            if current["metadata"].get("finalizers"):
                if not current["metadata"].get("deletionTimestamp"):
                    current["metadata"]["deletionTimestamp"] = now_rfc3339()
                    return self._commit(plural, current, "MODIFIED")
                return current
            return self._commit(plural, current, "DELETED")

    def events_after(self, plural, namespace, rv):
        return [(r, t, o) for (r, p, ns, t, o) in self.log
                if r > rv and p == plural and (namespace is None or ns == namespace)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store = None  # set on the class before serving

    def log_message(self, *args):
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self):
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        for prefix, plural, _, _, namespaced in RESOURCES:
            if not url.path.startswith(prefix + "/"):
                continue
            rest = url.path[len(prefix) + 1:].split("/")
            namespace = None
            if namespaced and len(rest) >= 3 and rest[0] == "namespaces":
                namespace, rest = rest[1], rest[2:]
            if rest and rest[0] == plural and len(rest) <= 2:
                name = rest[1] if len(rest) == 2 else None
                return plural, namespace, name, query
        return None

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null") if length else None

    def handle_any(self):
        store = self.store
        with store.lock:
            store.requests.append((self.command, self.path))
        routed = self.route()
        try:
            if routed is None:
                raise ApiError(404, "NotFound", f"the server could not find the requested resource ({self.path})")
            plural, namespace, name, query = routed
            if self.command == "GET" and name is None and query.get("watch") in ("true", "1"):
                return self.watch(plural, namespace, query)
            if self.command == "GET" and name is None:
                items, rv = store.list(plural, namespace)
                kind = BY_PLURAL[plural][2]
                return self.send_json(200, {"kind": kind + "List", "apiVersion": BY_PLURAL[plural][3],
                                            "metadata": {"resourceVersion": rv}, "items": items})
            if self.command == "GET":
                return self.send_json(200, store.get(plural, namespace, name))
            if self.command == "POST" and name is None:
                return self.send_json(201, store.create(plural, namespace, self.body()))
            if self.command == "PUT" and name:
                return self.send_json(200, store.replace(plural, namespace, name, self.body()))
            if self.command == "PATCH" and name:
                if "merge-patch" not in (self.headers.get("Content-Type") or ""):
                    raise ApiError(415, "UnsupportedMediaType", "only application/merge-patch+json here")
                return self.send_json(200, store.patch(plural, namespace, name, self.body()))
            if self.command == "DELETE" and name:
                return self.send_json(200, store.delete(plural, namespace, name, self.body()))
            raise ApiError(405, "MethodNotAllowed", f"{self.command} {self.path} is not supported here")
        except ApiError as error:
            self.send_json(error.code, error.body)

    def watch(self, plural, namespace, query):
        store = self.store
        rv = int(query.get("resourceVersion") or store.rv)
        deadline = time.monotonic() + min(float(query.get("timeoutSeconds") or 300), 300)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while time.monotonic() < deadline:
                with store.lock:
                    pending = store.events_after(plural, namespace, rv)
                    if not pending and not store.closed:
                        store.lock.wait(timeout=0.5)
                        pending = store.events_after(plural, namespace, rv)
                    closed = store.closed
                for r, event_type, obj in pending:
                    line = json.dumps({"type": event_type, "object": obj}).encode() + b"\n"
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    rv = r
                self.wfile.flush()
                if closed:
                    break
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


# --- The scenario ---------------------------------------------------------------------

def claim(namespace, name, class_name, **spec):
    body = {"metadata": {"name": name, "namespace": namespace, "annotations": {
                "volume.kubernetes.io/storage-provisioner": PROVISIONER}},
            "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": class_name,
                     "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"}}
    body["spec"].update(spec)
    return body


def storage_class(name, parameters):
    return {"metadata": {"name": name}, "provisioner": PROVISIONER, "parameters": parameters,
            "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}


def parse_metrics(text):
    """Samples as (name, {label: value}, value)."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)', line)
        if not m:
            continue
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        samples.append((m.group(1), labels, float(m.group(4))))
    return samples


def find(samples, name, **labels):
    return [v for n, l, v in samples if n == name and all(l.get(k) == want for k, want in labels.items())]


class Daemon:
    def __init__(self, binary, args, env, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w+", encoding="utf-8")
        try:
            self.process = subprocess.Popen([binary] + args, env=env, stdout=self.log, stderr=self.log)
        except OSError as error:
            print(f"scrape-metrics: cannot start {binary}: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def output(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def tail(self, lines=30):
        return "\n".join(self.output().splitlines()[-lines:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--daemon", required=True, help="the built nfs-cluster-provisioner binary")
    parser.add_argument("--out", required=True, help="where to write the scrape")
    parser.add_argument("--timeout", type=float, default=120, help="seconds the whole scenario may take")
    args = parser.parse_args()
    if not (os.path.isfile(args.daemon) and os.access(args.daemon, os.X_OK)):
        print(f"scrape-metrics: {args.daemon} is not an executable file; build it first (swift build)", file=sys.stderr)
        return 2

    work = tempfile.mkdtemp(prefix="ncp-scrape-")
    store = Store()
    Handler.store = store
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}"
    daemon = None
    try:
        exports = {m: os.path.join(work, "exports", m) for m in ("nfs-a", "nfs-b", "nfs-c")}
        for m in ("nfs-a", "nfs-b"):
            os.makedirs(exports[m])
        # nfs-c's directory is never made: the member is configured but unreachable.
        config = os.path.join(work, "config.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"provisionerName: {PROVISIONER}\nmembers:\n" + "".join(
                f"  - name: {m}\n    address: {m}.example.com\n    export: /exports/k8s\n    mountPath: {path}\n"
                for m, path in exports.items()))
        kubeconfig = os.path.join(work, "kubeconfig")
        with open(kubeconfig, "w", encoding="utf-8") as f:
            f.write(f"apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {api}\n"
                    f"contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\n"
                    f"current-context: fake\nusers:\n- name: fake\n  user: {{}}\n")

        store.create("storageclasses", None, storage_class("nfs-delete", {"onDelete": "delete"}))
        store.create("storageclasses", None, storage_class("nfs-archive", {"onDelete": "archive"}))
        store.create("storageclasses", None, storage_class("nfs-typo", {"ondelete": "delete"}))

        env = dict(os.environ, POD_NAME="nfs-cluster-provisioner-0", POD_NAMESPACE="nfs-cluster-provisioner")
        env.pop("KUBECONFIG", None)
        daemon = Daemon(args.daemon, [
            "run", "--config", config, "--allow-unmounted-exports", "--kubeconfig", kubeconfig,
            "--http-address", "127.0.0.1:0", "--log-format", "json", "--min-free", "0",
            "--lease-duration", "4", "--renew-deadline", "3", "--retry-period", "0.5",
            "--kube-api-qps", "50", "--kube-api-burst", "100", "--storage-timeout", "2",
        ], env, os.path.join(work, "daemon.log"))
        deadline = time.monotonic() + args.timeout

        def wait(what, condition):
            while True:
                if daemon.process.poll() is not None:
                    raise RuntimeError(f"the daemon exited with {daemon.process.returncode} while waiting for {what}:\n{daemon.tail()}")
                result = condition()
                if result:
                    return result
                if time.monotonic() > deadline:
                    raise RuntimeError(f"timed out waiting for {what}; the daemon's last lines:\n{daemon.tail()}")
                time.sleep(0.2)

        def port():
            for line in daemon.output().splitlines():
                if "serving /metrics" in line:
                    try:
                        return int(json.loads(line)["address"].rsplit(":", 1)[1])
                    except (ValueError, KeyError, IndexError):
                        pass
            return None

        http_port = wait("the HTTP endpoint's log line", port)
        metrics_url = f"http://127.0.0.1:{http_port}/metrics"

        def scrape():
            with urllib.request.urlopen(metrics_url, timeout=5) as response:
                return response.read().decode()

        def lease_holder():
            try:
                return store.get("leases", "nfs-cluster-provisioner", "example.com-nfs")["spec"].get("holderIdentity")
            except ApiError:
                return None

        wait("the daemon to take the Lease", lease_holder)

        names = [f"data-{i}" for i in range(6)]
        for i, name in enumerate(names):
            store.create("persistentvolumeclaims", "shop", claim("shop", name, "nfs-delete" if i % 2 == 0 else "nfs-archive"))
        store.create("persistentvolumeclaims", "shop", claim("shop", "typo", "nfs-typo"))
        rejected = store.create("persistentvolumeclaims", "shop", claim("shop", "rejected", "nfs-delete"))
        with store.lock:
            store.reject_pv_names.add("pvc-" + rejected["metadata"]["uid"])

        # The PV controller's part: bind each new PV to its claim.
        claims = {n: store.get("persistentvolumeclaims", "shop", n) for n in names}
        volumes = {}
        for name in names:
            pv_name = "pvc-" + claims[name]["metadata"]["uid"]
            def made(pv_name=pv_name):
                try:
                    return store.get("persistentvolumes", None, pv_name)
                except ApiError:
                    return None
            pv = wait(f"the PV of claim shop/{name}", made)
            pv["status"] = {"phase": "Bound"}
            volumes[name] = store.replace("persistentvolumes", None, pv_name, pv)
            c = claims[name]
            c["spec"]["volumeName"] = pv_name
            c["status"] = {"phase": "Bound", "accessModes": ["ReadWriteMany"], "capacity": {"storage": "1Gi"}}
            claims[name] = store.replace("persistentvolumeclaims", "shop", name, c)

        # Delete two claims (one per policy): their PVs are Released.
        for name in names[:2]:
            store.delete("persistentvolumeclaims", "shop", name, None)
            pv = store.get("persistentvolumes", None, volumes[name]["metadata"]["name"])
            pv["status"] = {"phase": "Released"}
            store.replace("persistentvolumes", None, pv["metadata"]["name"], pv)

        # A Released PV of ours on a member that has left the configuration.
        store.create("persistentvolumes", None, {
            "metadata": {"name": "pvc-retired-member", "finalizers": ["external-provisioner.volume.kubernetes.io/finalizer"],
                         "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER,
                                         "nfs-cluster-provisioner.io/member": "nfs-retired",
                                         "nfs-cluster-provisioner.io/directory": "shop-old",
                                         "nfs-cluster-provisioner.io/on-delete": "delete",
                                         "nfs-cluster-provisioner.io/claim-uid": str(uuid.uuid4())}},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"],
                     "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "nfs-delete",
                     "nfs": {"server": "nfs-retired.example.com", "path": "/exports/k8s/shop-old"},
                     "claimRef": {"namespace": "shop", "name": "old", "uid": str(uuid.uuid4())}},
            "status": {"phase": "Released"}})

        expected = [
            ("nfs_provisioner_provision_total", {"outcome": "success", "class": "nfs-delete"}),
            ("nfs_provisioner_provision_total", {"outcome": "success", "class": "nfs-archive"}),
            ("nfs_provisioner_provision_total", {"outcome": "refused", "class": "nfs-typo"}),
            ("nfs_provisioner_provision_total", {"outcome": "failed", "class": "nfs-delete"}),
            ("nfs_provisioner_delete_total", {"outcome": "success", "policy": "delete"}),
            ("nfs_provisioner_delete_total", {"outcome": "success", "policy": "archive"}),
            ("nfs_provisioner_delete_total", {"outcome": "failed", "member": "nfs-retired"}),
            ("nfs_provisioner_member_healthy", {"member": "nfs-a"}),
            ("nfs_provisioner_member_healthy", {"member": "nfs-c"}),
            ("nfs_provisioner_member_available_bytes", {}),
            ("nfs_provisioner_placement_total", {}),
            ("nfs_provisioner_queue_depth", {"queue": "claims"}),
            ("nfs_provisioner_queue_depth", {"queue": "volumes"}),
        ]

        def complete():
            samples = parse_metrics(scrape())
            missing = [f"{n}{l}" for n, l in expected if not find(samples, n, **l)]
            if find(samples, "nfs_provisioner_member_healthy", member="nfs-c") != [0.0]:
                missing.append("nfs-c unhealthy")
            if find(samples, "nfs_provisioner_member_healthy", member="nfs-a") != [1.0]:
                missing.append("nfs-a healthy")
            complete.missing = missing
            return None if missing else samples
        complete.missing = []
        try:
            wait("every expected series in /metrics", complete)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\nstill missing: {', '.join(complete.missing)}") from None
        text = scrape()
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)

        daemon.process.send_signal(signal.SIGTERM)
        try:
            code = daemon.process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            daemon.process.kill()
            raise RuntimeError("the daemon did not stop within 45 s of SIGTERM") from None
        if code != 0:
            raise RuntimeError(f"the daemon exited with {code} after SIGTERM:\n{daemon.tail()}")
        print(f"scrape-metrics: wrote {args.out} ({len(parse_metrics(text))} samples) from {args.daemon}")
        return 0
    except RuntimeError as error:
        print(f"scrape-metrics: {error}", file=sys.stderr)
        return 1
    finally:
        if daemon is not None and daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
        with store.lock:
            store.closed = True
            store.lock.notify_all()
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
