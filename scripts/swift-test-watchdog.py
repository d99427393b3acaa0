#!/usr/bin/env python3
"""Runs `swift test` (arguments passed through) with a deadline, so a hung test fails the
run within minutes instead of eating the CI budget, and says which test hung.

Output is streamed as it comes. The script follows Swift Testing's progress lines
("◇ Test x started.", "✔ Test x passed ...", "✘ Test x failed ..."); if the run outlives
the deadline (env SWIFT_TEST_DEADLINE seconds, default 1500) or goes silent for longer
than SWIFT_TEST_SILENCE seconds (default 600), it prints the tests that started and never
ended, the stacks of every thread of the test process (when gdb is installed), then kills
the run and every process it started, and exits 124. Otherwise it exits with `swift test`'s status.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

DEADLINE = float(os.environ.get("SWIFT_TEST_DEADLINE", "1500"))
SILENCE = float(os.environ.get("SWIFT_TEST_SILENCE", "600"))

# "◇ Test name() started." (the cases of a parameterised test, "◇ Test case passing ...",
# print no end of their own and are not followed).
STARTED = re.compile(r"^◇ (Test) (?!case passing )(.+) started\.$")
# "✔ Test name() passed after 1.2 seconds." / "✘ Test name() failed after ..." / "➜ Test ... skipped"
ENDED = re.compile(r"^[✔✘➜]? ?(?:Test|Suite) (.+?) (?:passed|failed|skipped)\b")


def descendants(root_pid):
    """Pids of every process below `root_pid` (the test bundle, and what it started:
    nfs-ganesha servers, the daemon binary, kubectl...), parents first."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                # "pid (comm) state ppid ...": the command may contain spaces.
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, queue = [], [root_pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def is_test_bundle(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"PackageTests.xctest" in f.read()
    except OSError:
        return False


def dump_kernel_view(pid):
    """Each thread's name, state and kernel wait channel, from /proc (never blocks, unlike
    a debugger, which cannot stop a thread blocked in the kernel on a hung mount)."""
    print(f"watchdog: threads of pid {pid} (name, state, kernel wait channel):", flush=True)
    try:
        tasks = sorted(os.listdir(f"/proc/{pid}/task"), key=int)
    except OSError as error:
        print(f"  cannot list: {error}", flush=True)
        return
    for task in tasks:
        base = f"/proc/{pid}/task/{task}"
        try:
            with open(base + "/stat") as f:
                stat = f.read()
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            state = stat.rsplit(")", 1)[1].split()[0]
            with open(base + "/wchan") as f:
                wchan = f.read().strip() or "-"
        except OSError:
            continue
        print(f"  {task:>7} {name:<16} {state} {wchan}", flush=True)


def dump_stacks(pid):
    dump_kernel_view(pid)
    gdb = shutil.which("gdb")
    if gdb is None:
        print(f"watchdog: gdb is not installed; no stacks for pid {pid}", flush=True)
        return
    print(f"watchdog: stacks of every thread of pid {pid}:", flush=True)
    try:
        result = subprocess.run([gdb, "-p", str(pid), "-batch", "-ex", "thread apply all bt 25"],
                                capture_output=True, text=True, timeout=90)
        print(result.stdout[-200_000:], flush=True)
    except subprocess.TimeoutExpired:
        print("watchdog: gdb did not finish within 90 s (a thread blocked in the kernel cannot be stopped)", flush=True)


def main():
    command = ["swift", "test", *sys.argv[1:]]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    running = {}  # name -> start time
    last_output = [time.monotonic()]
    lock = threading.Lock()

    def reader():
        for raw in process.stdout:
            line = raw.decode(errors="replace")
            sys.stdout.write(line)
            sys.stdout.flush()
            text = line.rstrip("\n")
            with lock:
                last_output[0] = time.monotonic()
                started = STARTED.match(text)
                if started:
                    running[started.group(2)] = time.monotonic()
                    continue
                ended = ENDED.match(text)
                if ended:
                    name = ended.group(1)
                    # Parameterised tests end as "Test name(_:) with N test cases passed".
                    name = re.sub(r" with \d+ test cases?$", "", name)
                    running.pop(name, None)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    start = time.monotonic()
    reason = None
    while process.poll() is None:
        time.sleep(1)
        now = time.monotonic()
        with lock:
            silent = now - last_output[0]
        if now - start > DEADLINE:
            reason = f"the test run outlived its deadline of {DEADLINE:.0f} s"
        elif silent > SILENCE:
            reason = f"the test run printed nothing for {silent:.0f} s"
        if reason:
            break
    if reason is None:
        thread.join(timeout=10)
        return process.returncode

    print(f"\nwatchdog: {reason}; stopping it.", flush=True)
    with lock:
        unfinished = sorted(running.items(), key=lambda item: item[1])
    if unfinished:
        print("watchdog: started and never ended (oldest first):", flush=True)
        for name, t in unfinished:
            print(f"  {name}  (running {time.monotonic() - t:.0f} s)", flush=True)
    below = descendants(process.pid)
    for pid in below:
        if is_test_bundle(pid):
            dump_stacks(pid)
    # Everything the run started goes too (servers it started run in sessions of their own).
    for pid in [process.pid] + below:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()
    return 124


if __name__ == "__main__":
    sys.exit(main())
