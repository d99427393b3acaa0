#!/usr/bin/env bash
# Validates Kubernetes objects against the OpenAPI schema of one Kubernetes release, with
# kubernetes-validate (PyPI) in strict mode: unknown fields, wrong types and missing
# required fields are errors, and so is a kind/apiVersion that release does not serve
# (extensions/v1beta1 Deployments, say). On top of the schema it checks what the schema
# leaves to the API server's own validation: object names (DNS-1123), label and
# annotation keys (qualified names) and label values, and resource quantities
# ("1Gi", not "1 GiB"). The e2e tests use it on the PersistentVolumes the daemon creates.
#
# Custom resources have no schema in kubernetes-validate. The kinds deploy/ ships
# (monitoring.coreos.com/v1 PrometheusRule and ServiceMonitor, from the Prometheus
# Operator) are checked against a structural description written here from the
# Operator's API reference (https://prometheus-operator.dev/docs/api-reference/api/):
# unknown fields, wrong types, missing required fields and malformed durations are
# errors, the metadata is checked as ObjectMeta; fields this project has no use for
# (authentication, TLS) are accepted as objects without a closer look. Any other
# custom resource fails as before ("no schema").
#
# Usage: scripts/validate-objects.sh [-q] FILE...
#   FILE   JSON or YAML: one object, several YAML documents, a JSON array, JSON lines, or
#          a List (kubectl's `List`, or an API list such as PersistentVolumeList whose
#          items carry no kind: it is taken from the list's kind).
#   -q     print only failures and the summary.
# Environment: KUBE_VERSION (default 1.37, the newest released Kubernetes whose schema
# kubernetes-validate ships).
# Exit: 0 all valid; 1 an object is invalid or a file unreadable; 2 usage or setup error.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.37}"
quiet=0
if [ "${1:-}" = "-q" ]; then quiet=1; shift; fi
if [ "$#" -eq 0 ]; then
    echo "usage: $0 [-q] FILE..." >&2
    exit 2
fi
command -v python3 >/dev/null 2>&1 || { echo "validate-objects: python3 not found; install Python 3" >&2; exit 2; }

# kubernetes-validate is a PyPI package; install it when missing (its wheel carries the
# schemas of every Kubernetes release, so nothing is fetched at validation time).
if ! python3 -c 'import kubernetes_validate' >/dev/null 2>&1; then
    echo "validate-objects: installing kubernetes-validate (PyPI)" >&2
    if ! python3 -m pip install -q 'kubernetes-validate>=1.37.0' >/tmp/validate-objects-pip.log 2>&1; then
        echo "validate-objects: pip install kubernetes-validate failed; see /tmp/validate-objects-pip.log" >&2
        exit 2
    fi
fi

exec python3 - "$KUBE_VERSION" "$quiet" "$@" <<'PY'
import json
import re
import sys

import yaml
from kubernetes_validate import utils as kv

version, quiet, files = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]

# --- Rules the API server applies that the OpenAPI schema does not carry -------------
# k8s.io/apimachinery/pkg/util/validation/validation.go (IsDNS1123Subdomain,
# IsDNS1123Label, IsQualifiedName, IsValidLabelValue) and
# k8s.io/apimachinery/pkg/api/resource/quantity.go (the quantity grammar).
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUANTITY = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+))?$")
# Kinds whose names must be DNS-1123 labels (no dots); the rest take subdomains.
LABEL_NAMED_KINDS = {"Namespace", "Service"}
# Maps of quantities, wherever they appear (PV capacity, claim requests, container
# resources, ResourceQuota hard limits, ...).
QUANTITY_MAPS = {"capacity", "requests", "limits", "hard", "allocatable"}


def qualified_key_problem(key):
    prefix, _, name = key.rpartition("/")
    if "/" in prefix:
        return "has more than one '/'"
    if key.count("/") == 1:
        if not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix):
            return f"prefix {prefix!r} is not a DNS-1123 subdomain"
    if not name or len(name) > 63 or not QUALIFIED_NAME.match(name):
        return f"name part {name!r} must be 1-63 characters [A-Za-z0-9-_.], alphanumeric at both ends"
    return None


def metadata_problems(obj):
    problems = []
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not name and not meta.get("generateName"):
        problems.append("metadata.name: missing (and no generateName)")
    elif name:
        if obj.get("kind") in LABEL_NAMED_KINDS:
            if len(name) > 63 or not DNS1123_LABEL.match(name):
                problems.append(f"metadata.name: {name!r} is not a DNS-1123 label (lower case, digits, '-', at most 63)")
        elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
            problems.append(f"metadata.name: {name!r} is not a DNS-1123 subdomain (lower case, digits, '-', '.', at most 253)")
    for field in ("labels", "annotations"):
        for key, value in (meta.get(field) or {}).items():
            why = qualified_key_problem(str(key))
            if why:
                problems.append(f"metadata.{field}: key {key!r} {why}")
            if field == "labels" and (not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value)):
                problems.append(f"metadata.labels: value {value!r} of {key!r} is not a valid label value")
    return problems


def quantity_problems(node, path):
    problems = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if key in QUANTITY_MAPS and isinstance(value, dict):
                for resource, q in value.items():
                    if isinstance(q, bool) or not isinstance(q, (str, int, float)) or not QUANTITY.match(str(q)):
                        problems.append(f"{here}.{resource}: {q!r} is not a Kubernetes quantity (e.g. 1Gi, 500m)")
            else:
                problems.extend(quantity_problems(value, here))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            problems.extend(quantity_problems(value, f"{path}[{i}]"))
    return problems


# --- Custom resources the Kubernetes schema does not know ------------------------------
# A description language small enough to read: a type is a Python type, a tuple of
# allowed types, a set of allowed strings, ("list", T), ("map", T) (string keys), or a
# dict of field -> T whose required fields are marked with a leading "!". ANY_OBJECT is a
# mapping taken as it is.
ANY_OBJECT = "any-object"
# Prometheus durations as the Operator's CRDs define them (e.g. 30s, 1m30s, 1h).
DURATION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$")
DURATION_T = "duration"

LABEL_SELECTOR = {
    "matchLabels": ("map", str),
    "matchExpressions": ("list", {"!key": str, "!operator": {"In", "NotIn", "Exists", "DoesNotExist"}, "values": ("list", str)}),
}
RELABEL_ACTIONS = {"replace", "Replace", "keep", "Keep", "drop", "Drop", "hashmod", "HashMod", "labelmap", "LabelMap",
                   "labeldrop", "LabelDrop", "labelkeep", "LabelKeep", "lowercase", "Lowercase", "uppercase",
                   "Uppercase", "keepequal", "KeepEqual", "dropequal", "DropEqual"}
RELABEL = {"sourceLabels": ("list", str), "separator": str, "targetLabel": str, "regex": str, "modulus": int,
           "replacement": str, "action": RELABEL_ACTIONS}
RULE = {"alert": str, "record": str, "!expr": (str, int), "for": DURATION_T, "keep_firing_for": DURATION_T,
        "labels": ("map", str), "annotations": ("map", str)}
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "!spec": {"groups": ("list", {"!name": str, "interval": DURATION_T, "query_offset": DURATION_T, "limit": int,
                                       "partial_response_strategy": str, "labels": ("map", str),
                                       "!rules": ("list", RULE)})},
    },
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {
        "!spec": {
            "!selector": LABEL_SELECTOR,
            "!endpoints": ("list", {
                "port": str, "targetPort": (int, str), "path": str, "scheme": {"http", "https", "HTTP", "HTTPS"},
                "params": ("map", ("list", str)), "interval": DURATION_T, "scrapeTimeout": DURATION_T,
                "honorLabels": bool, "honorTimestamps": bool, "trackTimestampsStaleness": bool,
                "followRedirects": bool, "enableHttp2": bool, "filterRunning": bool, "proxyUrl": str, "noProxy": str,
                "relabelings": ("list", RELABEL), "metricRelabelings": ("list", RELABEL),
                "tlsConfig": ANY_OBJECT, "authorization": ANY_OBJECT, "basicAuth": ANY_OBJECT, "oauth2": ANY_OBJECT,
                "bearerTokenSecret": ANY_OBJECT,
            }),
            "namespaceSelector": {"any": bool, "matchNames": ("list", str)},
            "jobLabel": str, "targetLabels": ("list", str), "podTargetLabels": ("list", str),
            "sampleLimit": int, "targetLimit": int, "labelLimit": int, "labelNameLengthLimit": int,
            "labelValueLengthLimit": int, "keepDroppedTargets": int, "attachMetadata": {"node": bool},
            "scrapeProtocols": ("list", str), "fallbackScrapeProtocol": str, "scrapeClass": str, "bodySizeLimit": str,
            "selectorMechanism": {"RelabelConfig", "RoleSelector"}, "serviceDiscoveryRole": {"Endpoints", "EndpointSlice"},
        },
    },
}


def child(at, name):
    return f"{at}.{name}" if at else str(name)


def type_problems(value, t, at):
    if t == ANY_OBJECT:
        return [] if isinstance(value, dict) else [f"{at}: must be an object"]
    if t == DURATION_T:
        return [] if isinstance(value, str) and value and DURATION.match(value) else [f"{at}: {value!r} is not a Prometheus duration (e.g. 30s, 5m, 1h)"]
    if isinstance(t, set):
        return [] if isinstance(value, str) and value in t else [f"{at}: {value!r} is not one of {', '.join(sorted(t))}"]
    if isinstance(t, tuple) and t and t[0] in ("list", "map"):
        kind, item = t
        if kind == "list":
            if not isinstance(value, list):
                return [f"{at}: must be a list"]
            return [p for i, v in enumerate(value) for p in type_problems(v, item, f"{at}[{i}]")]
        if not isinstance(value, dict):
            return [f"{at}: must be a map"]
        return [p for k, v in value.items() for p in type_problems(v, item, child(at, k))]
    if isinstance(t, dict):
        if not isinstance(value, dict):
            return [f"{at}: must be an object"]
        fields = {k.lstrip("!"): (k.startswith("!"), sub) for k, sub in t.items()}
        problems = [f"{child(at, k)}: unknown field" for k in value if k not in fields]
        for name, (required, sub) in fields.items():
            if name in value:
                problems += type_problems(value[name], sub, child(at, name))
            elif required:
                problems.append(f"{child(at, name)}: required")
        return problems
    allowed = t if isinstance(t, tuple) else (t,)
    names = " or ".join({str: "a string", int: "an integer", bool: "a boolean"}.get(a, a.__name__) for a in allowed)
    # YAML booleans are not integers here, whatever Python thinks.
    if isinstance(value, bool) and bool not in allowed:
        return [f"{at}: must be {names}, not a boolean"]
    return [] if isinstance(value, allowed) else [f"{at}: {value!r} must be {names}"]


def custom_resource_problems(obj, version):
    shape = CUSTOM_KINDS[(obj["apiVersion"], obj["kind"])]
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    problems = type_problems(body, shape, "")
    # The metadata is an ObjectMeta like any other: let the schema check it inside a
    # ConfigMap, which has nothing else required.
    try:
        kv.validate({"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj.get("metadata") or {}}, version, strict=True)
    except kv.ValidationError as error:
        problems.append(f"{'.'.join(str(p) for p in error.absolute_path)}: {error.message}")
    if obj["kind"] == "PrometheusRule":
        for gi, group in enumerate(((obj.get("spec") or {}).get("groups") or [])):
            if not isinstance(group, dict):
                continue
            for ri, rule in enumerate(group.get("rules") or []):
                if not isinstance(rule, dict):
                    continue
                where = f"spec.groups[{gi}].rules[{ri}]"
                if ("alert" in rule) == ("record" in rule):
                    problems.append(f"{where}: needs exactly one of alert and record")
                elif "record" in rule and ({"for", "keep_firing_for", "annotations"} & set(rule)):
                    problems.append(f"{where}: a recording rule takes no for, keep_firing_for or annotations")
    return problems


# --- Reading ---------------------------------------------------------------------------
def documents(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            return [json.loads(text)]
        except json.JSONDecodeError:
            # JSON lines: one object per line.
            return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [d for d in yaml.safe_load_all(text) if d is not None]


def objects(doc, where):
    """Flattens arrays and Lists into (where, object) pairs."""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from objects(item, f"{where}[{i}]")
        return
    if isinstance(doc, dict) and isinstance(doc.get("items"), list) and str(doc.get("kind", "")).endswith("List"):
        item_kind = doc["kind"][: -len("List")]
        for i, item in enumerate(doc["items"]):
            if isinstance(item, dict) and item_kind and "kind" not in item:
                # API list responses leave kind/apiVersion off their items.
                item = dict(item, kind=item_kind, apiVersion=doc.get("apiVersion"))
            yield from objects(item, f"{where} items[{i}]")
        return
    yield where, doc


# --- Validation ------------------------------------------------------------------------
if version not in {kv.major_minor(v) for v in kv.all_versions()}:
    newest = kv.major_minor(kv.latest_version())
    print(f"validate-objects: kubernetes-validate has no schema for Kubernetes {version} (newest: {newest}); "
          f"set KUBE_VERSION or upgrade: python3 -m pip install -U kubernetes-validate", file=sys.stderr)
    sys.exit(2)

valid = invalid = 0
for path in files:
    try:
        docs = documents(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as error:
        print(f"FAIL {path}: cannot read: {error}".replace("\n", " "))
        invalid += 1
        continue
    found = 0
    for where, obj in objects(docs[0] if len(docs) == 1 else docs, path):
        found += 1
        if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str) or not isinstance(obj.get("apiVersion"), str):
            print(f"FAIL {where}: not a Kubernetes object (needs apiVersion and kind)")
            invalid += 1
            continue
        label = f"{obj['kind']}/{(obj.get('metadata') or {}).get('name', '?')}"
        problems = []
        try:
            if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
                problems += custom_resource_problems(obj, version)
            else:
                kv.validate(obj, version, strict=True)
        except kv.ValidationError as error:
            at = ".".join(str(p) for p in error.absolute_path)
            problems.append(f"{at or '(root)'}: {error.message}")
        except kv.SchemaNotFoundError as error:
            problems.append(f"Kubernetes {version} serves no {obj['kind']} in {obj['apiVersion']} (no schema)")
        problems += metadata_problems(obj) + quantity_problems(obj, "")
        if problems:
            invalid += 1
            for problem in problems:
                print(f"FAIL {where}: {label}: {problem}")
        else:
            valid += 1
            if not quiet:
                print(f"ok   {where}: {label}")
    if found == 0:
        print(f"FAIL {path}: contains no object")
        invalid += 1

print(f"validate-objects: {valid} valid, {invalid} invalid (Kubernetes {version} schema, strict)")
sys.exit(1 if invalid else 0)
PY
