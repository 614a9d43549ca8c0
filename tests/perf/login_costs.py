#!/usr/bin/env python3
"""What a warm (--cold: cold) login costs the front besides its instructions
(issue 13, item 3).

callgrind_login.py counts the instructions of user space.  A login also
costs system calls (kernel time, not in those counts), context switches
(each one a wake-up of a process that waited in epoll_wait) and threads.
For each variant (the sc0 fronts of bench_login.py, all started at once) a
cold and a warm pass fill the caches; then, round after round, in the order
of bench_login.round_order() (rotated, reversed every second round), one
warm pass of N logins per variant, the passes of a round back to back so
that each variant is compared with native under the same machine load.
Counted per pass from /proc for the front's auth, imap-login and log
processes (every thread): CPU time (schedstat, ns), context switches
(voluntary + involuntary), read and write system calls (/proc/PID/io).
Where perf and strace exist (the host; the Debian 13 root has neither):
--perf-stat adds every system call (raw_syscalls:sys_enter) per thread,
--record one pass per variant under perf record (cpu-clock samples by
process and object), and one pass per variant under strace -c -f names the
system calls (strace slows the processes: its counts, not its times).
With --cold every measured pass logs in N users that no pass of any front
has seen yet (a new set of bench users for each round), so that each login
is a cold one: the directory is searched for it.
Printed per warm login: the medians of the rounds, CPU and logins/s paired
against native's pass of the same round; every round's figures in --json.

    login_costs.py --env LAB_ENV --build-dir B --work DIR [--logins N]
                   [--rounds R] [--variants native,ours-ldapp,...] [--json OUT]
                   [--perf-stat] [--record] [--no-strace] [--front-base N] [--cold]
                   [--before-build B0]
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import perf_common as pc
import perf_data
from bench_login import (LDAP_CHAIN, add_front_base_argument, front_addr, round_order,
                         variant_plugins)
from perf_fronts import BenchFront

PROCESSES = ("auth", "imap-login", "log")
EVENTS = ("task-clock", "context-switches", "cpu-migrations", "page-faults",
          "raw_syscalls:sys_enter")


def front_pids(front):
    """{process name: [pid, ...]} of the measured processes of a front."""
    out = {}
    for pid, comm, _ in pc.group_processes(front.pid):
        if comm in PROCESSES:
            out.setdefault(comm, []).append(pid)
    return out


def thread_owner(pids):
    """{tid: process name} of every thread of the measured processes."""
    owner = {}
    for name, plist in pids.items():
        for pid in plist:
            try:
                for tid in os.listdir("/proc/%d/task" % pid):
                    owner[int(tid)] = name
            except OSError:
                pass
    return owner


def parse_perf_stat(path, owner, per_thread=None):
    """{process: {event: total}} from `perf stat -x, --per-thread` output
    (lines "comm-tid,value,unit,event,..."); per_thread, when given, gets
    {"process/tid": {event: value}}."""
    by = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) < 4 or "-" not in parts[0]:
                continue
            try:
                tid = int(parts[0].rsplit("-", 1)[1])
                value = float(parts[1])
            except ValueError:
                continue
            name = owner.get(tid)
            if name is None:
                continue
            d = by.setdefault(name, {})
            d[parts[3]] = d.get(parts[3], 0.0) + value
            if per_thread is not None:
                t = per_thread.setdefault("%s/%d" % (name, tid), {})
                t[parts[3]] = t.get(parts[3], 0.0) + value
    return by


def _read(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def proc_counters(pids):
    """{process: {"cpu_ms", "cs", "syscr", "syscw"}} summed over the
    processes and their threads, from /proc (no perf needed: the Debian 13
    root has none): run time from schedstat (ns), voluntary + involuntary
    context switches, read and write system calls from /proc/PID/io."""
    out = {}
    for name, plist in pids.items():
        d = out.setdefault(name, {"cpu_ms": 0.0, "cs": 0.0, "syscr": 0.0, "syscw": 0.0})
        for pid in plist:
            io = dict(line.split(": ", 1) for line in _read("/proc/%d/io" % pid).splitlines()
                      if ": " in line)
            d["syscr"] += int(io.get("syscr", 0))
            d["syscw"] += int(io.get("syscw", 0))
            try:
                tids = os.listdir("/proc/%d/task" % pid)
            except OSError:
                continue
            for tid in tids:
                sched = _read("/proc/%d/task/%s/schedstat" % (pid, tid)).split()
                if sched:
                    d["cpu_ms"] += int(sched[0]) / 1e6
                for line in _read("/proc/%d/task/%s/status" % (pid, tid)).splitlines():
                    if line.endswith("ctxt_switches:") is False and "ctxt_switches:" in line:
                        d["cs"] += int(line.split()[1])
    return out


def under_proc_counters(pids, action):
    """(action's result, {process: {counter: difference}}) over action()."""
    before = proc_counters(pids)
    result = action()
    after = proc_counters(pids)
    return result, {name: {k: after[name][k] - before.get(name, {}).get(k, 0.0)
                           for k in after[name]} for name in after}


def under_perf_stat(pids, work, action):
    """Runs action() while perf stat counts the threads of pids; returns
    (action's result, {process: {event: value}}, {process: threads},
    {"process/tid": {event: value}})."""
    owner = thread_owner(pids)
    out = os.path.join(work, "perf-stat.csv")
    argv = ["perf", "stat", "-x,", "--per-thread", "-e", ",".join(EVENTS), "-o", out,
            "-p", ",".join(str(p) for plist in pids.values() for p in plist)]
    perf = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)  # perf attaches before the first login
        result = action()
        time.sleep(0.2)
    finally:
        perf.send_signal(signal.SIGINT)
        _, err = perf.communicate(timeout=30)
    if not os.path.exists(out):
        raise pc.PerfError("perf stat wrote nothing: %s" % err.decode("utf-8", "replace"))
    threads = {}
    for name in owner.values():
        threads[name] = threads.get(name, 0) + 1
    per_thread = {}
    return result, parse_perf_stat(out, owner, per_thread), threads, per_thread


STRACE_ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?(\w+)\s*$")


def under_strace(pids, work, action):
    """Runs action() with strace -c -f on each measured process (one strace
    per process name); returns (result, {process: {syscall: calls}})."""
    procs = {}
    for name, plist in pids.items():
        out = os.path.join(work, "strace-%s.txt" % name)
        argv = ["strace", "-c", "-f", "-S", "calls", "-o", out]
        for p in plist:
            argv += ["-p", str(p)]
        procs[name] = (subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL), out)
    try:
        time.sleep(0.5)
        result = action()
        time.sleep(0.2)
    finally:
        for proc, _ in procs.values():
            proc.send_signal(signal.SIGINT)
        for proc, _ in procs.values():
            proc.wait(timeout=30)
    calls = {}
    for name, (_, out) in procs.items():
        d = {}
        with open(out, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = STRACE_ROW.match(line)
                if m and m.group(3) != "total":
                    d[m.group(3)] = int(m.group(1))
        calls[name] = d
    return result, calls


def under_perf_record(pids, path, action):
    """Runs action() while perf record samples the measured processes
    (cpu-clock, 4 kHz, call graphs); the data stays in path for perf report."""
    argv = ["perf", "record", "-q", "-F", "4000", "-g", "-o", path,
            "-p", ",".join(str(p) for plist in pids.values() for p in plist)]
    perf = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        result = action()
        time.sleep(0.2)
    finally:
        perf.send_signal(signal.SIGINT)
        perf.communicate(timeout=60)
    return result


def dso_shares(path):
    """[(comm, dso, percent)] of a perf record file (self samples)."""
    p = subprocess.run(["perf", "report", "-i", path, "--no-children", "--sort", "comm,dso",
                        "--stdio", "-g", "none"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=120)
    rows = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+(\S+)\s+(\S+)\s*$", line)
        if m:
            rows.append((m.group(2), m.group(3), float(m.group(1))))
    return rows


def run(args):
    env = pc.read_lab_env(args.env)
    loadgen = pc.find_loadgen(args.build_dir)
    slapd = pc.lab_slapd(env)
    variants = args.variants.split(",")
    n = args.logins
    # --cold: one set of users to warm the fronts up, one per round, and
    # one for each of the record and strace passes.
    sets = 1 + (args.rounds + 2 if args.cold else 0)
    plain, files = perf_data.warm_login_users(env, slapd, n, os.path.join(args.work, "users-costs"),
                                              sets=sets)
    uf = files if sets == 1 else files[0]
    fresh = iter(files[1:] if sets > 1 else [])
    results = {"logins": n, "concurrency": args.concurrency, "dovecot": pc.dovecot_label(),
               "machine": pc.machine_note(), "rounds": [], "strace": {}, "threads": {},
               "cold": args.cold}
    fronts = {}
    measured_users = [uf]

    def one_pass(v, users=None):
        return pc.run_loadgen(loadgen, fronts[v].addr, fronts[v].port, users=users or uf, count=n,
                              concurrency=args.concurrency, expect="referral", timeout=60)

    def measured_pass(v):
        return one_pass(v, measured_users[0])

    def next_users():
        # Every front sees a set once: each has caches of its own.
        if args.cold:
            measured_users[0] = next(fresh)

    try:
        for v in variants:
            base, kind, build = variant_plugins(args, v)
            fronts[v] = BenchFront("costs-%s" % v.replace("@", "-"), args.work,
                                   front_addr(args, v, variants), kind, "sc0", env,
                                   [] if kind == "native" or base in LDAP_CHAIN else plain,
                                   settings_overrides={"cache_ttl": "60s",
                                                       "negative_cache_ttl": "10s"},
                                   password_ldap=LDAP_CHAIN.get(base), plugin_build=build).start()
        for v in variants:
            one_pass(v)  # cold: fills Dovecot's and the directory client's caches
            one_pass(v)  # warm-up
        for r in range(args.rounds):
            next_users()
            order = round_order(variants, r)
            row = {}
            for v in order:
                pids = front_pids(fronts[v])
                per_thread = {}
                if args.perf_stat:
                    (lg, counts), perf_counts, threads, per_thread = under_perf_stat(
                        pids, args.work, lambda: under_proc_counters(pids, lambda: measured_pass(v)))
                    for p, d in perf_counts.items():
                        counts.setdefault(p, {}).update(d)
                else:
                    lg, counts = under_proc_counters(pids, lambda: measured_pass(v))
                    threads = {}
                    for tid_owner in thread_owner(pids).values():
                        threads[tid_owner] = threads.get(tid_owner, 0) + 1
                sessions = max(lg["sessions"], 1)
                row[v] = {"rate": lg["rate"], "p50": lg["p50_ms"], "p99": lg["p99_ms"],
                          "unexpected": lg["unexpected"], "loadgen_cpu_pct": lg["cpu_pct"],
                          "per_login": {p: {e: c / sessions for e, c in d.items()}
                                        for p, d in counts.items()},
                          "per_thread": {t: {e: c / sessions for e, c in d.items()}
                                         for t, d in per_thread.items()}}
                results["threads"][v] = threads
                pc.log("round %d %-10s %7.1f/s %s" % (r, v, lg["rate"], "  ".join(
                    "%s %.3f ms %.2f cs %.1f r+w" % (
                        p, row[v]["per_login"].get(p, {}).get("cpu_ms", 0.0),
                        row[v]["per_login"].get(p, {}).get("cs", 0.0),
                        row[v]["per_login"].get(p, {}).get("syscr", 0.0)
                        + row[v]["per_login"].get(p, {}).get("syscw", 0.0))
                    for p in PROCESSES)))
            results["rounds"].append(row)
        if args.record and shutil.which("perf"):
            results["record"] = {}
            next_users()
            for v in variants:
                path = os.path.join(args.work, "perf-%s.data" % v)
                lg = under_perf_record(front_pids(fronts[v]), path, lambda: measured_pass(v))
                results["record"][v] = {"file": path, "sessions": lg["sessions"],
                                        "shares": dso_shares(path)}
        if args.strace and shutil.which("strace"):
            next_users()
            for v in variants:
                lg, calls = under_strace(front_pids(fronts[v]), args.work,
                                         lambda: measured_pass(v))
                sessions = max(lg["sessions"], 1)
                results["strace"][v] = {p: {s: c / sessions for s, c in d.items()}
                                        for p, d in calls.items()}
    finally:
        for f in fronts.values():
            f.stop()
    return pc.publish(args, results, report)


def report(results):
    variants = list(results["rounds"][0]) if results["rounds"] else []
    ref = "native" if "native" in variants else None
    out = ["Per %s login (sc0, %d logins per pass, concurrency %d, median of %d rounds; "
           "Dovecot %s; %s)\n" % ("cold" if results.get("cold") else "warm",
                                  results["logins"], results["concurrency"],
                                  len(results["rounds"]), results["dovecot"],
                                  results["machine"])]
    rows = []

    def value(r, v, p, e):
        d = r[v]["per_login"].get(p, {})
        if e == "rw":
            return d.get("syscr", 0.0) + d.get("syscw", 0.0)
        return d.get(e, 0.0)

    def cpu(r, v):
        return sum(value(r, v, p, "cpu_ms") for p in PROCESSES)

    with_perf = any("raw_syscalls:sys_enter" in d for r in results["rounds"] for x in r.values()
                    for d in x["per_login"].values())
    columns = [("cpu_ms", "CPU ms", "%.3f"), ("cs", "cs", "%.2f"), ("rw", "read+write", "%.1f")]
    if with_perf:
        columns.append(("raw_syscalls:sys_enter", "syscalls", "%.1f"))
    for v in variants:
        cells = [v]
        for p in PROCESSES:
            for e, _, fmt in columns:
                cells.append(fmt % pc.med([value(r, v, p, e) for r in results["rounds"]]))
        cells.append("%.3f" % pc.med([cpu(r, v) for r in results["rounds"]]))
        if ref and v != ref:
            ratios = [cpu(r, v) / max(cpu(r, ref), 1e-9) for r in results["rounds"]]
            rate = [r[v]["rate"] / r[ref]["rate"] for r in results["rounds"]]
            cells += ["%.2f×" % pc.med(ratios), "%.2f×" % pc.med(rate)]
        else:
            cells += ["", ""]
        cells.append("%.0f" % pc.med([r[v]["rate"] for r in results["rounds"]]))
        cells.append("%.0f" % pc.med([r[v]["loadgen_cpu_pct"] for r in results["rounds"]]))
        cells.append(" ".join("%s %d" % kv for kv in sorted(results["threads"].get(v, {}).items())))
        rows.append(cells)
    headers = ["variant"]
    for p in PROCESSES:
        headers += ["%s %s" % (p, title) for _, title, _ in columns]
    headers += ["CPU ms total", "CPU vs native (paired)", "logins/s vs native (paired)",
                "logins/s", "loadgen CPU %", "threads"]
    out.append(pc.table(headers, rows))
    if results["strace"]:
        out.append("\nSystem calls per warm login by name (strace -c -f, one pass; "
                   "calls ≥ 0.05 per login):\n")
        for v, by in results["strace"].items():
            for p in PROCESSES:
                calls = by.get(p, {})
                text = ", ".join("%s %.2f" % (s, c) for s, c in
                                 sorted(calls.items(), key=lambda kv: -kv[1]) if c >= 0.05)
                out.append("- %s %s: %s" % (v, p, text))
    for v, rec in results.get("record", {}).items():
        out.append("\nperf record, %s (share of the samples by process and object, ≥ 1 %%):" % v)
        out.append(", ".join("%s %s %.1f%%" % row for row in rec["shares"] if row[2] >= 1.0))
    return "\n".join(out)


def main(argv=None):
    ap = pc.argument_parser(build_dir=True)
    ap.add_argument("--logins", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--variants", default="native,ours,ours-ldapp,ours-ldapf")
    ap.add_argument("--before-build",
                    help="build tree of the variants <variant>@before (ours* only; "
                         "with --front-base), as in callgrind_login.py")
    ap.add_argument("--cold", action="store_true",
                    help="measure cold logins: each measured pass logs in users no pass "
                         "has seen yet")
    ap.add_argument("--record", action="store_true",
                    help="one more pass per variant under perf record (WORK/perf-<variant>.data)")
    ap.add_argument("--perf-stat", action="store_true",
                    help="also count every system call (perf stat, raw_syscalls:sys_enter)")
    ap.add_argument("--no-strace", dest="strace", action="store_false",
                    help="skip the strace pass (system calls by name)")
    add_front_base_argument(ap)
    args = ap.parse_args(argv)
    if args.perf_stat and not shutil.which("perf"):
        ap.error("--perf-stat: no perf on PATH")
    args.work = os.path.abspath(args.work)
    os.makedirs(args.work, exist_ok=True)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
