#!/usr/bin/env python3
"""Independent reference for RingCore's placement rules (not used at run time).

Writes Tests/RingCoreTests/Fixtures/xxh3-reference.tsv: lines of
`servers<TAB>vnodes<TAB>key<TAB>expected_server`, where `servers` is comma-separated
`name` or `name*weight`. The rule (Sources/RingCore/RingSnapshot.swift):

- virtual node i of member `name` (i = 0 ..< weight * vnodes) sits at XXH3-64(name bytes, seed=i);
- equal points: the member whose name sorts first by UTF-8 bytes owns it;
- a key goes to the owner of the first point strictly greater than XXH3-64(key bytes),
  wrapping to the first point.

Written in Python with the `xxhash` package so the Swift implementation is checked against
code that shares nothing with it. Regenerate only on purpose: these vectors pin where
volumes live; changing them moves data.
    pip install xxhash && python3 scripts/ring-reference.py
"""
import bisect
import os
import random
import xxhash

def build(members, vnodes):
    owners = {}
    for name, weight in sorted(members, key=lambda m: m[0].encode()):
        b = name.encode()
        for i in range(weight * vnodes):
            p = xxhash.xxh3_64_intdigest(b, seed=i)
            owners.setdefault(p, name)  # first (smallest name) wins
    points = sorted(owners)
    return points, [owners[p] for p in points]

def locate(ring, key):
    points, owners = ring
    h = xxhash.xxh3_64_intdigest(key.encode())
    i = bisect.bisect_right(points, h)
    return owners[i % len(points)]

def main():
    rng = random.Random(20261127)
    server_sets = [
        ([("10.0.0.1", 1), ("10.0.0.2", 1), ("10.0.0.3", 1)], 255),
        ([(f"10.0.0.{i}", 1) for i in range(1, 11)], 255),
        ([("fd00::10", 1), ("fd00::11", 1), ("2001:db8::1", 2)], 255),
        ([("nfs-α", 1), ("filer.prod.internal", 3), ("数据-1", 1), ("nfs-2.example.com", 1)], 100),
        ([("a", 1), ("b", 1)], 1),
        ([(f"nfs-{i}", 1 + i % 3) for i in range(37)], 50),
    ]
    keys = ["", "default-data-0", "team-a-db", "team-a-db", "café-data-0", "🙂", "数据-ééé"]
    for _ in range(40):
        ns = rng.choice(["default", "team-a", "payments", "ml", "kube-system"])
        keys.append(f"{ns}-data-{rng.choice(['pg', 'redis', 'kafka'])}-{rng.randrange(1000)}")
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "RingCoreTests", "Fixtures", "xxh3-reference.tsv")
    with open(out, "w", encoding="utf-8") as f:
        for members, vnodes in server_sets:
            ring = build(members, vnodes)
            servers = ",".join(n if w == 1 else f"{n}*{w}" for n, w in members)
            for key in keys:
                f.write(f"{servers}\t{vnodes}\t{key}\t{locate(ring, key)}\n")

if __name__ == "__main__":
    main()
