#!/usr/bin/env bash
# Checks the optional monitoring component (deploy/components/monitoring) against the
# daemon's real metrics:
#
#  1. the rule groups of prometheusrule.yaml (its `spec`, the one source of the rules)
#     pass `promtool check rules`, and the unit tests in tests/*.test.yaml pass
#     `promtool test rules` (each alert fires when it should and not when it should not);
#  2. every metric the rules, the tests and the dashboard name is one the daemon exports,
#     with the labels it exports: testdata/metrics-sample.txt (a real scrape) is the
#     reference; test input series carry exactly the sample's labels plus the target
#     labels Prometheus adds (job, namespace, instance, pod, ...);
#  3. the dashboard is a Grafana dashboard whose every query is valid PromQL (checked by
#     promtool as recording rules, with the dashboard's variables filled in);
#  4. a live scrape: scripts/scrape-metrics.py starts the built daemon (NCP_BIN, or
#     .build/debug/nfs-cluster-provisioner) against an in-memory API server, and
#     `promtool check metrics` lints what /metrics serves, and the sample too. The daemon
#     sets no HELP text on its metrics (swift-prometheus gets none through swift-metrics),
#     so promtool's "no help text" findings are reported and tolerated; any other finding
#     fails. Every series of the sample must still be exported with the same label names
#     (new series are only noted): if the daemon's metrics change, review the rules and
#     the dashboard, then refresh the sample with --update-sample.
#
# Usage: scripts/validate-monitoring.sh [--update-sample]
#        scripts/validate-monitoring.sh --print-rules   (the rule file for Prometheus
#                                                        without the Operator, on stdout)
# Exit: 0 all good; 1 a check failed; 2 a tool or the built daemon is missing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
component="$repo/deploy/components/monitoring"
update_sample=0
case "${1:-}" in
    "") ;;
    --update-sample) update_sample=1 ;;
    --print-rules)
        exec python3 -c 'import sys, yaml; yaml.safe_dump(yaml.safe_load(open(sys.argv[1]))["spec"], sys.stdout, sort_keys=False, width=1000)' \
            "$component/prometheusrule.yaml" ;;
    *) echo "usage: $0 [--update-sample | --print-rules]" >&2; exit 2 ;;
esac

command -v python3 >/dev/null 2>&1 || { echo "validate-monitoring: python3 not found" >&2; exit 2; }
if ! command -v promtool >/dev/null 2>&1; then
    echo "validate-monitoring: promtool not found; it comes with Debian's prometheus package:" >&2
    echo "validate-monitoring:   apt-get install prometheus   (scripts/setup.sh installs it)" >&2
    exit 2
fi
ncp_bin="${NCP_BIN:-$repo/.build/debug/nfs-cluster-provisioner}"
if [ ! -x "$ncp_bin" ]; then
    echo "validate-monitoring: no built daemon at $ncp_bin: build it first (swift build) or set NCP_BIN;" >&2
    echo "validate-monitoring: the live /metrics scrape needs it" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rules="$work/nfs-cluster-provisioner.rules.yaml"
sample="$component/testdata/metrics-sample.txt"
status=0

# promtool check metrics, tolerating only the missing HELP texts. $1: what is linted.
lint_metrics() {
    local what="$1" file="$2" out rc=0
    out="$(promtool check metrics <"$file" 2>&1)" || rc=$?
    local other
    other="$(printf '%s\n' "$out" | grep -v ' no help text$' | grep -v '^$' || true)"
    local nohelp
    nohelp="$(printf '%s\n' "$out" | grep -c ' no help text$' || true)"
    if [ -n "$other" ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; }; then
        echo "FAIL promtool check metrics ($what, exit $rc):"
        printf '%s\n' "$other" | sed 's/^/    /'
        return 1
    fi
    echo "ok   promtool check metrics ($what): no problems but $nohelp metrics without HELP text (the daemon sets none)"
}

# 4 first when refreshing the sample, so that the other checks run against the new one.
live="$work/live-metrics.txt"
scrape_live() {
    if ! python3 "$repo/scripts/scrape-metrics.py" --daemon "$ncp_bin" --out "$live"; then
        echo "FAIL the live scrape: the daemon at $ncp_bin did not get through the scenario (see above)"
        return 1
    fi
}
if [ "$update_sample" -eq 1 ]; then
    scrape_live || exit 1
    {
        echo "# The daemon's /metrics as scripts/scrape-metrics.py scrapes it (refresh: scripts/validate-monitoring.sh"
        echo "# --update-sample): the reference for the metric names and labels of the alerts, their tests and the dashboard."
        cat "$live"
    } >"$sample"
    echo "updated ${sample#"$repo"/} from the live scrape"
fi

# 1. The rule file, and the unit tests beside it.
python3 - "$component/prometheusrule.yaml" "$rules" <<'PY' || exit 1
import sys
import yaml

source, target = sys.argv[1], sys.argv[2]
with open(source, encoding="utf-8") as f:
    obj = yaml.safe_load(f)
if not (isinstance(obj, dict) and obj.get("kind") == "PrometheusRule" and isinstance(obj.get("spec", {}).get("groups"), list)):
    sys.exit(f"FAIL {source}: not a PrometheusRule with spec.groups")
with open(target, "w", encoding="utf-8") as f:
    yaml.safe_dump(obj["spec"], f, sort_keys=False, width=1000)
PY
if promtool check rules "$rules" >"$work/check.log" 2>&1; then
    echo "ok   promtool check rules: $(grep -o '[0-9]* rules found' "$work/check.log")"
else
    echo "FAIL promtool check rules (deploy/components/monitoring/prometheusrule.yaml, spec):"
    sed 's/^/    /' "$work/check.log"
    status=1
fi
tests=()
for test in "$component"/tests/*.test.yaml; do
    cp "$test" "$work/"
    tests+=("$work/$(basename "$test")")
done
if (cd "$work" && promtool test rules "${tests[@]##*/}") >"$work/test.log" 2>&1; then
    echo "ok   promtool test rules: $(grep -c '^  - name:' "${tests[@]}" | awk -F: '{n += $NF} END {print n}') test groups in ${#tests[@]} files"
else
    echo "FAIL promtool test rules:"
    sed 's/^/    /' "$work/test.log"
    status=1
fi

# 2 and 3. Names and labels against the sample; the dashboard.
python3 - "$sample" "$component" "$work" <<'PY' || status=1
import glob
import json
import os
import re
import subprocess
import sys

import yaml

sample_path, component, work = sys.argv[1:4]
failures = []
# Labels Prometheus adds to every series it scrapes through the ServiceMonitor.
TARGET_LABELS = {"job", "namespace", "instance", "pod", "service", "endpoint", "container"}
# Series Prometheus makes itself.
PROMETHEUS_SERIES = {"up": set()}
SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"')


def series_in(path):
    """Series name -> set of label names, from a Prometheus text exposition."""
    found = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = SERIES.match(line)
            if m and not line.startswith("#"):
                found.setdefault(m.group(1), set()).update(k for k in LABEL.findall(m.group(2) or ""))
    return found


exported = series_in(sample_path)
if not exported:
    sys.exit(f"FAIL {sample_path}: no series")
known = {**exported, **PROMETHEUS_SERIES}
METRIC = re.compile(r'\b(nfs_provisioner_[a-zA-Z0-9_]*|up)\b(\{[^}]*\})?')
GROUPING = re.compile(r'\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)')


def expression_problems(expr):
    problems = []
    names = set()
    for m in METRIC.finditer(expr):
        name = m.group(1)
        if name not in known:
            problems.append(f"{name} is not a series the daemon exports (see the sample) nor Prometheus' own")
            continue
        names.add(name)
        for label in LABEL.findall(m.group(2) or ""):
            if label not in known[name] | TARGET_LABELS:
                problems.append(f"{name} has no label {label!r} (it has {', '.join(sorted(known[name])) or 'none'})")
    if not names:
        return problems or ["uses no metric of the daemon"]
    labels = set().union(*(known[n] for n in names)) | TARGET_LABELS
    for m in GROUPING.finditer(expr):
        for label in (l.strip() for l in m.group(1).split(",")):
            if label and label not in labels:
                problems.append(f"groups by {label!r}, which none of {', '.join(sorted(names))} has")
    return problems


# Rules.
with open(os.path.join(component, "prometheusrule.yaml"), encoding="utf-8") as f:
    groups = yaml.safe_load(f)["spec"]["groups"]
rules = [r for g in groups for r in g["rules"]]
for rule in rules:
    for problem in expression_problems(str(rule["expr"])):
        failures.append(f"FAIL rule {rule.get('alert') or rule.get('record')}: {problem}")
used_by_rules = {m.group(1) for r in rules for m in METRIC.finditer(str(r["expr"]))}

# Test input series: the sample's names with exactly its labels, plus target labels; and
# every alert has a test.
tested = set()
for path in sorted(glob.glob(os.path.join(component, "tests", "*.test.yaml"))):
    with open(path, encoding="utf-8") as f:
        suite = yaml.safe_load(f)
    for test in suite.get("tests", []):
        for series in test.get("input_series", []):
            m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$', series["series"].strip())
            name, labels = (m.group(1), set(LABEL.findall(m.group(2) or ""))) if m else (series["series"], set())
            if name not in known:
                failures.append(f"FAIL {os.path.basename(path)} ({test.get('name')}): input series {name} is not exported by the daemon")
                continue
            missing = known[name] - labels
            extra = labels - known[name] - TARGET_LABELS
            if missing or extra:
                failures.append(f"FAIL {os.path.basename(path)} ({test.get('name')}): {name} should carry "
                                f"{', '.join(sorted(known[name]))} + target labels; missing {sorted(missing)}, unknown {sorted(extra)}")
        for case in test.get("alert_rule_test", []):
            if case.get("exp_alerts"):
                tested.add(case["alertname"])
for rule in rules:
    if "alert" in rule and rule["alert"] not in tested:
        failures.append(f"FAIL rule {rule['alert']}: no unit test expects it to fire")

# The dashboard.
with open(os.path.join(component, "dashboard.json"), encoding="utf-8") as f:
    try:
        dashboard = json.load(f)
    except json.JSONDecodeError as error:
        sys.exit(f"FAIL dashboard.json: not JSON: {error}")
for key in ("uid", "title", "panels", "schemaVersion"):
    if key not in dashboard:
        failures.append(f"FAIL dashboard.json: no {key}")
panels = [p for p in dashboard.get("panels", []) for p in [p] + p.get("panels", [])]
ids = [p.get("id") for p in panels]
if len(ids) != len(set(ids)) or None in ids:
    failures.append(f"FAIL dashboard.json: panel ids must be present and unique: {ids}")
variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
if variables.get("datasource", {}).get("query") != "prometheus":
    failures.append("FAIL dashboard.json: needs a `datasource` variable of type prometheus")
# Grafana's variables as promtool can parse them.
FILL = {"$namespace": "nfs-cluster-provisioner", "$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
        "${datasource}": "prometheus"}
queries = []
for p in panels:
    if p.get("type") == "row":
        continue
    if p.get("datasource", {}).get("uid") != "${datasource}":
        failures.append(f"FAIL dashboard.json: panel {p.get('title')!r} does not use the ${{datasource}} variable")
    if not p.get("targets"):
        failures.append(f"FAIL dashboard.json: panel {p.get('title')!r} has no query")
    for t in p.get("targets", []):
        expr = t.get("expr", "")
        for problem in expression_problems(expr):
            failures.append(f"FAIL dashboard.json: panel {p.get('title')!r} {t.get('refId')}: {problem}")
        for variable, value in FILL.items():
            expr = expr.replace(variable, value)
        leftover = re.findall(r'\$\{?\w+', expr)
        if leftover:
            failures.append(f"FAIL dashboard.json: panel {p.get('title')!r} uses undefined variables {leftover}")
        queries.append((p.get("title"), t.get("refId"), expr))
namespace_query = variables.get("namespace", {}).get("definition", "")
inner = re.match(r'^label_values\((.*),\s*namespace\)$', namespace_query)
if not inner:
    failures.append(f"FAIL dashboard.json: the namespace variable should be label_values(<series>, namespace), not {namespace_query!r}")
else:
    queries.append(("variable namespace", "-", inner.group(1)))
check = os.path.join(work, "dashboard-queries.rules.yaml")
with open(check, "w", encoding="utf-8") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:panel_{i}", "expr": expr} for i, (_, _, expr) in enumerate(queries)]}]}, f, width=1000)
run = subprocess.run(["promtool", "check", "rules", check], capture_output=True, text=True)
if run.returncode != 0:
    failures.append("FAIL dashboard.json: a query is not valid PromQL:\n    "
                    + (run.stdout + run.stderr).strip().replace("\n", "\n    ")
                    + "\n    (queries in order: " + "; ".join(f"{i}: {t} {r}" for i, (t, r, _) in enumerate(queries)) + ")")
used_by_dashboard = {m.group(1) for _, _, q in queries for m in METRIC.finditer(q)}

for line in failures:
    print(line)
if not failures:
    families = sorted({re.sub(r'_(bucket|sum|count)$', '', n) for n in exported})
    unused = sorted(f for f in families if not any(u.startswith(f) for u in used_by_rules | used_by_dashboard))
    print(f"ok   {len(rules)} rules and {len(queries)} dashboard queries use only exported series with their labels "
          f"({len(families)} families in the sample{'; unused: ' + ', '.join(unused) if unused else ', all used'})")
    print(f"ok   unit-test input series carry the sample's labels; every alert has a test that makes it fire")
sys.exit(1 if failures else 0)
PY

# 4. The live scrape and the sample, linted; the same metrics in both.
lint_metrics "${sample#"$repo"/}" "$sample" || status=1
if [ "$update_sample" -eq 0 ]; then
    scrape_live || { echo "validate-monitoring: FAILED"; exit 1; }
fi
lint_metrics "live scrape of $ncp_bin" "$live" || status=1
python3 - "$sample" "$live" <<'PY' || status=1
import re
import sys

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="')


def shape(path):
    found = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = SERIES.match(line)
            if m and not line.startswith("#"):
                found.setdefault(m.group(1), set()).update(LABEL.findall(m.group(2) or ""))
    return found


sample, live = shape(sys.argv[1]), shape(sys.argv[2])
# A series the sample has and the daemon no longer exports, or whose labels changed, may
# break a rule or a panel: a failure. A new series breaks nothing: a note.
problems = [f"{n}: in the sample, not exported any more" for n in sorted(set(sample) - set(live))]
problems += [f"{n}: labels {sorted(sample[n])} in the sample, {sorted(live[n])} live"
             for n in sorted(set(sample) & set(live)) if sample[n] != live[n]]
new = sorted(set(live) - set(sample))
if problems:
    print("FAIL the daemon's metrics differ from deploy/components/monitoring/testdata/metrics-sample.txt:")
    for p in problems:
        print(f"    {p}")
    print("    review the rules and the dashboard, then: scripts/validate-monitoring.sh --update-sample")
    sys.exit(1)
print(f"ok   the live scrape has the sample's {len(sample)} series names with the same labels")
if new:
    print(f"note the daemon exports series the sample lacks: {', '.join(new)}; consider alerts or panels for them "
          f"and refresh the sample (scripts/validate-monitoring.sh --update-sample)")
PY

if [ "$status" -ne 0 ]; then
    echo "validate-monitoring: FAILED (see the FAIL lines above)"
    exit 1
fi
echo "validate-monitoring: rules, unit tests, dashboard and the daemon's live /metrics agree"
