#!/usr/bin/env python3
"""Hardening item 6 (issue 6): faults with the lab, under load.

Each load scenario starts a fresh "ours" front (tests/perf/perf_fronts.py,
default login mode, Dovecot's auth cache on) and runs dref-imap-load for a
fixed time at concurrency 10 with, in rotation: bench users never seen
before (policy refer: every one needs a directory lookup) -> referral;
alice (proxied to home1; after her first login an auth cache hit) ->
ok-proxied; carol (local; her imap session loads its remote-mailbox table
from the directory) -> ok-local.  The fault is injected while it runs:

  slapd-kill     slapd SIGKILLed, restarted 5 s later on the same port
  slapd-freeze   slapd SIGSTOPped for 7 s (requests time out), then SIGCONT
  uri-refused    ldap_uris starts with an address where nothing listens
  uri-silent     ldap_uris starts with a server that accepts TCP and never answers
  home-down      home1 (alice's home, proxy path) SIGKILLed, restarted 5 s later
  dir-edit       (no load) carol's remote mailbox and alice's mailHost are
                 changed in LDAP while their sessions run on the lab front

Reported per scenario: reply classes before / during / after the fault,
latency, time to recover (from the repair to the last reply of a
fault-class after it, and to the first good directory-dependent reply),
sessions lost (no tagged reply), and Panic/Fatal/segfault lines.

    faults.py --env LAB_ENV --build-dir B --work DIR [--quick] [--only NAME] [--json OUT]
"""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import perf_common as pc
import perf_data
from perf_fronts import BenchFront, ensure_auth_module
import lab_process

CRASH = re.compile(r"Panic|Fatal|segfault|killed by signal|core dumped", re.I)
GOOD = {"referral", "ok-proxied", "ok-local"}
LOST = {"closed", "timeout", "connect-error", "bye", "other"}


class SilentServer(threading.Thread):
    """Accepts TCP connections and never answers (a hung LDAP server)."""

    def __init__(self, addr):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.done = threading.Event()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.done.is_set():
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except socket.timeout:
                continue
            except OSError:
                return

    def stop(self):
        self.done.set()
        self.join()
        for c in self.conns:
            c.close()
        self.sock.close()


def read_events(path):
    out = []
    with open(path) as f:
        next(f)
        for line in f:
            end, cls, lat, user, unexpected = line.split()
            out.append((float(end), cls, float(lat), user))
    return out


def windows(events, t_fault, t_repair):
    def count(sel):
        c = {}
        for e in sel:
            c[e[1]] = c.get(e[1], 0) + 1
        return c
    before = [e for e in events if e[0] < t_fault]
    during = [e for e in events if t_fault <= e[0] < t_repair]
    after = [e for e in events if e[0] >= t_repair]
    bad_after = [e for e in after if e[1] not in GOOD]
    good_dir_after = [e for e in after if e[1] == "referral" and e[3].startswith("bench")
                      and e[0] - e[2] / 1000.0 >= t_repair]
    return {
        "before": count(before), "during": count(during), "after": count(after),
        "last_bad_after_repair_s": (max(e[0] for e in bad_after) - t_repair) if bad_after else 0.0,
        "first_good_lookup_after_repair_s": (min(e[0] for e in good_dir_after) - t_repair)
        if good_dir_after else None,
        "max_latency_ms_during": max([e[2] for e in during] or [0]),
        "p50_latency_ms_before": pc.med([e[2] for e in before]),
        "lost": sum(1 for e in events if e[1] in LOST),
    }


class FaultRun:
    def __init__(self, args, env, loadgen):
        self.args, self.env, self.loadgen = args, env, loadgen
        self.addr = "127.0.0.%d" % (args.addr_base + 15)
        self.next_user = 0

    def users_file(self, n):
        rows = []
        for _ in range(n // 10 + 1):
            for _ in range(8):
                u = perf_data.bench_user(self.next_user % self.args.bench_users)
                self.next_user += 1
                rows.append((u, "pw-" + u))
            rows += [("alice", "pw-alice"), ("carol", "pw-carol")]
        return pc.write_users(os.path.join(self.args.work, "users-faults"), rows)

    def front(self, name, overrides=None):
        users = [perf_data.bench_user(i) for i in range(self.args.bench_users)]
        lines = [perf_data.passwd_line(u) for u in users + ["alice", "carol"]]
        ov = {"local_names": "%s %s" % (self.addr, self.env["FRONT_ADDR"])}
        ov.update(overrides or {})
        return BenchFront("fault-" + name, self.args.work, self.addr, "ours", "sc1", self.env,
                          lines, settings_overrides=ov).start()

    def load(self, name, front, fault, repair, duration, t_fault, t_repair):
        """Runs the load for `duration`, calls fault() at t_fault and repair()
        at t_repair (seconds after the load started)."""
        events = os.path.join(self.args.work, "events-%s" % name)
        users = self.users_file(int(duration * 200))
        argv = [self.loadgen, "--host", front.addr, "--port", str(front.port), "--users", users,
                "--concurrency", str(self.args.concurrency), "--duration", str(duration),
                "--timeout", "30", "--events", events, "--local-marker", "MAILBOX-REFERRALS"]
        log_size = os.path.getsize(front.log) if os.path.exists(front.log) else 0
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        marks = {}
        try:
            if fault:
                time.sleep(max(0, t_fault - (time.monotonic() - t0)))
                marks["fault"] = time.monotonic() - t0
                fault()
                time.sleep(max(0, t_repair - (time.monotonic() - t0)))
                marks["repair_started"] = time.monotonic() - t0
                repair()
                marks["repair"] = time.monotonic() - t0
            out, _ = proc.communicate(timeout=duration + 90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        text = out.decode("utf-8", "replace")
        summary = json.loads([l for l in text.splitlines() if l.startswith("JSON ")][0][5:])
        ev = read_events(events)
        if not fault:
            marks = {"fault": 0.0}  # the fault lasts the whole run
        res = windows(ev, marks["fault"], marks.get("repair", duration + 1))
        res.update({"marks": marks, "sessions": summary["sessions"], "classes": summary["classes"],
                    "examples": summary["examples"], "p99_ms": summary["p99_ms"],
                    "crash_lines": self.crash_lines(front.log, log_size)})
        pc.log("%s: %s" % (name, json.dumps({k: res[k] for k in (
            "before", "during", "after", "last_bad_after_repair_s",
            "first_good_lookup_after_repair_s", "lost", "marks")})))
        return res

    @staticmethod
    def crash_lines(path, offset):
        if not os.path.exists(path):
            return []
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            f.seek(offset)
            return [l.rstrip() for l in f if CRASH.search(l)]

    # ------------------------------------------------------------ scenarios
    def slapd_kill(self, name):
        front = self.front(name)
        try:
            holder = {}

            def fault():
                holder["srv"] = pc.lab_slapd(self.env)
                holder["srv"].kill()

            def repair():
                srv = holder["srv"]
                srv.start()
                pc.update_lab_state(self.env, "slapd", srv.pid)
            return self.load(name, front, fault, repair, self.dur(25), 5, 10)
        finally:
            front.stop()

    def slapd_freeze(self, name):
        front = self.front(name)
        srv = pc.lab_slapd(self.env)
        try:
            return self.load(name, front, srv.pause, srv.resume, self.dur(25), 5, 12)
        finally:
            srv.resume()
            front.stop()

    def uri_refused(self, name):
        dead = "ldap://%s:%d/" % (self.addr, lab_process.pick_port([self.addr]))
        front = self.front(name, {"ldap_uris": "%s %s" % (dead, self.env["LDAP_URI"])})
        try:
            res = self.load(name, front, None, None, self.dur(12), 0, 0)
            res["ldap_uris"] = "%s %s" % (dead, self.env["LDAP_URI"])
            return res
        finally:
            front.stop()

    def uri_silent(self, name):
        silent = SilentServer(self.addr)
        silent.start()
        uris = "ldap://%s:%d/ %s" % (self.addr, silent.port, self.env["LDAP_URI"])
        front = self.front(name, {"ldap_uris": uris})
        try:
            res = self.load(name, front, None, None, self.dur(15), 0, 0)
            res["ldap_uris"] = uris
            res["silent_connections"] = len(silent.conns)
            return res
        finally:
            front.stop()
            silent.stop()

    def home_down(self, name):
        front = self.front(name)
        env = self.env
        try:
            def fault():
                os.killpg(int(env["HOME1_PID"]), 9)
                lab_process.stop_group(int(env["HOME1_PID"]), 5)

            def repair():
                log = os.path.join(env["LAB_DIR"], "home1", "log", "stdout.log")
                proc = lab_process.spawn(["dovecot", "-F", "-c", env["HOME1_CONF"]], log)
                pc.update_lab_state(env, "home1", proc.pid)
                lab_process.wait_imap_greeting(env["HOME1_ADDR"], int(env["HOME1_PORT"]), proc,
                                               20, lambda: "home1 did not come back")
            return self.load(name, front, fault, repair, self.dur(25), 5, 10)
        finally:
            front.stop()

    def dur(self, seconds):
        return max(8, seconds // 2) if self.args.quick else seconds


def run(args):
    env = pc.read_lab_env(args.env)
    loadgen = pc.find_loadgen(args.build_dir)
    slapd = pc.lab_slapd(env)
    perf_data.raise_db_size(slapd)
    pc.slapadd_bulk(env, perf_data.users_ldif(env, 0, args.bench_users, env["HOME1_ADDR"]),
                    "bench users")
    fr = FaultRun(args, env, loadgen)
    import faults_dir_edit
    scenarios = [("slapd-kill", fr.slapd_kill), ("slapd-freeze", fr.slapd_freeze),
                 ("uri-refused", fr.uri_refused), ("uri-silent", fr.uri_silent),
                 ("home-down", fr.home_down),
                 ("dir-edit", lambda name: faults_dir_edit.run(env, args.quick))]
    results = {"machine": pc.machine_note(), "scenarios": {}}
    for name, fn in scenarios:
        if args.only and name not in args.only.split(","):
            continue
        pc.log("scenario %s" % name)
        ensure_auth_module(env, force=True)
        results["scenarios"][name] = fn(name)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    print(report(results))
    return 0


def _classes(c):
    return ", ".join("%s %d" % kv for kv in sorted(c.items())) or "-"


def report(results):
    rows = []
    for name, r in results["scenarios"].items():
        if name == "dir-edit":
            continue
        rec = "n/a (no repair)" if "repair" not in r["marks"] else "%.1f s / %s" % (
            r["last_bad_after_repair_s"],
            "%.1f s" % r["first_good_lookup_after_repair_s"]
            if r["first_good_lookup_after_repair_s"] is not None else "never")
        rows.append([name, _classes(r["before"]), _classes(r["during"]), _classes(r["after"]),
                     "%.0f / %.0f" % (r["p99_ms"], r["max_latency_ms_during"])
                     if r["during"] else "-", rec, r["lost"], len(r["crash_lines"])])
    out = pc.table(["scenario", "replies before", "replies during", "replies after repair",
                    "p99 of the run / max during, ms", "recovery: last fault reply / first good lookup",
                    "lost", "Panic/Fatal"], rows)
    if "dir-edit" in results["scenarios"]:
        import faults_dir_edit
        out += "\n\n" + faults_dir_edit.report(results["scenarios"]["dir-edit"])
    return out + "\n"


def main(argv=None):
    ap = pc.argument_parser(build_dir=True)
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--bench-users", type=int, default=10000)
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
