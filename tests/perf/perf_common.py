"""Shared helpers of the benchmark, load and fault drivers (tests/perf).

- run_loadgen(): runs the C++ load generator dref-imap-load and returns its
  JSON summary;
- process accounting from /proc: CPU seconds of a Dovecot instance (every
  live process of its process group plus what the master has reaped), RSS of
  its processes by name;
- SlapdCounters: LDAP operations counted by slapd itself (cn=Monitor, the
  monitor backend, enabled at run time through cn=config);
- stats helpers (median/min/max) and markdown table output.

Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
sys.path.insert(0, os.path.join(REPO, "tests", "support"))

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class PerfError(RuntimeError):
    pass


def argument_parser(build_dir=True):
    """The options every part of scripts/perf.sh takes; each script adds its own."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True, help="the lab's lab.env")
    if build_dir:
        ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--addr-base", type=int, default=60)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    return ap


def script_main(run, argv=None, build_dir=True, add_arguments=None):
    """The entry point of a part: argument_parser() plus the part's own
    options (add_arguments(ap)), its work directory, then run(args)."""
    ap = argument_parser(build_dir=build_dir)
    if add_arguments is not None:
        add_arguments(ap)
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    run(args)
    return 0


def publish(args, results, report):
    """Writes the results as JSON (--json) and prints report(results), the
    tables scripts/perf.sh keeps in <part>.md."""
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    print(report(results))
    return results


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ---------------------------------------------------------------- load generator
def find_loadgen(build_dir):
    path = os.path.join(build_dir, "tests", "perf", "dref-imap-load")
    if not os.access(path, os.X_OK):
        raise PerfError("%s is not built (cmake --build %s --target dref-imap-load)"
                        % (path, build_dir))
    return path


def run_loadgen(loadgen, host, port, users=None, user=None, password=None, concurrency=10,
                count=None, duration=None, mech="login", local_marker=None, timeout=10,
                events=None, expect=None, source=None, logout=True):
    """Runs dref-imap-load; returns its JSON summary (dict) plus "text"."""
    argv = [loadgen, "--host", host, "--port", str(port), "--concurrency", str(concurrency),
            "--mech", mech, "--timeout", str(timeout)]
    if users:
        argv += ["--users", users]
    else:
        argv += ["--user", user, "--pass", password]
    if count:
        argv += ["--count", str(count)]
    if duration:
        argv += ["--duration", str(duration)]
    if local_marker:
        argv += ["--local-marker", local_marker]
    if events:
        argv += ["--events", events]
    if expect:
        argv += ["--expect", expect]
    if source:
        argv += ["--source", source]
    if not logout:
        argv.append("--no-logout")
    limit = (duration or 0) + (count or 0) / 20.0 + timeout + 60
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=limit)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise PerfError("dref-imap-load failed (%d): %s %s"
                        % (p.returncode, out, p.stderr.decode("utf-8", "replace")))
    for line in out.splitlines():
        if line.startswith("JSON "):
            result = json.loads(line[5:])
            result["text"] = "\n".join(l for l in out.splitlines() if not l.startswith("JSON "))
            return result
    raise PerfError("no JSON line from dref-imap-load: %s" % out)


def write_users(path, rows):
    """rows: (user, password[, expect[, source]]) -> the load generator's users file."""
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(" ".join(str(x) for x in r) + "\n")
    return path


# ---------------------------------------------------------------- /proc accounting
def _stat(pid):
    """(comm, pgrp, utime+stime ticks, cutime+cstime ticks, rss pages) or None."""
    try:
        with open("/proc/%d/stat" % pid, "r") as f:
            data = f.read()
    except OSError:
        return None
    lpar, rpar = data.index("("), data.rindex(")")
    comm = data[lpar + 1:rpar]
    fields = data[rpar + 2:].split()
    # fields[0] = state (field 3); pgrp = field 5; utime 14, stime 15,
    # cutime 16, cstime 17, rss 24.
    return (comm, int(fields[2]), int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]), int(fields[21]))


def _pids():
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def group_processes(pgid):
    """[(pid, comm, rss_kb)] of the live processes of process group pgid."""
    out = []
    for pid in _pids():
        st = _stat(pid)
        if st and st[1] == pgid:
            out.append((pid, st[0], st[4] * PAGE_KB))
    return out


def group_cpu_seconds(pgid):
    """CPU seconds (user+system) used so far by a Dovecot instance: every
    live process of its group, plus the master's cutime/cstime, which hold
    the children it has already reaped (login and imap processes end all the
    time).  The difference of two readings is the CPU used in between."""
    ticks = 0
    for pid in _pids():
        st = _stat(pid)
        if st and st[1] == pgid:
            ticks += st[2]
            if pid == pgid:
                ticks += st[3]
    return ticks / float(CLK_TCK)


def self_children_cpu_seconds():
    r = os.times()
    return r.children_user + r.children_system


def rss_by_comm(pgid, names):
    """{comm: [rss_kb, ...]} for the named processes of the group."""
    out = {n: [] for n in names}
    for pid, comm, rss in group_processes(pgid):
        if comm in out:
            out[comm].append(rss)
    return out


def wait_for(predicate, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(step)
    return predicate()


# ---------------------------------------------------------------- slapd counters
MONITOR_LDIF = ("dn: olcDatabase=monitor,cn=config\nchangetype: add\nobjectClass: olcDatabaseConfig\n"
                "olcDatabase: monitor\nolcAccess: to * by * read\n")


class SlapdCounters:
    """Counts slapd's completed operations by type (Bind, Search, ...) from
    cn=Operations,cn=Monitor.  Reading the counters is itself one bind and
    one search; read() subtracts that (calibrated once in enable())."""

    def __init__(self, slapd):
        self.slapd = slapd
        self.overhead = {}

    def enable(self):
        rc, out = self.slapd.modify_config(MONITOR_LDIF, check=False)
        if rc != 0 and "only one monitor database" not in out and rc != 68:  # already there
            raise PerfError("enabling slapd's monitor backend: %s" % out)
        a = self._raw()
        b = self._raw()
        self.overhead = {k: b.get(k, 0) - a.get(k, 0) for k in b}
        return self

    def _raw(self):
        p = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", self.slapd.uri, "-o", "ldif-wrap=no",
                            "-b", "cn=Operations,cn=Monitor", "-s", "one", "(objectClass=*)",
                            "monitorOpCompleted"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        if p.returncode != 0:
            raise PerfError("reading cn=Monitor: %s" % p.stderr.decode("utf-8", "replace"))
        counts, cn = {}, None
        for line in p.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("dn: cn="):
                cn = line[len("dn: cn="):].split(",")[0]
            elif line.startswith("monitorOpCompleted: ") and cn:
                counts[cn] = int(line.split(": ", 1)[1])
        return counts

    def read(self):
        """Counter snapshot; diff(a, b) gives the operations in between."""
        return self._raw()

    def diff(self, before, after):
        return {k: after.get(k, 0) - before.get(k, 0) - self.overhead.get(k, 0)
                for k in after}


# ---------------------------------------------------------------- statistics
def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def mmm(values, fmt="%.1f"):
    """'median (min-max)' of a list."""
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return fmt % values[0]
    return (fmt + " (" + fmt + "–" + fmt + ")") % (statistics.median(values), min(values),
                                                   max(values))


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def dovecot_label():
    """The Dovecot on PATH as "2.3.19" / "2.4.1" (the lab's own reading of
    `dovecot --version`, which also picks its configuration language)."""
    import lab_dovecot
    return ".".join(str(x) for x in lab_dovecot.dovecot_version())


def machine_note():
    la = load_average()
    return "%s UTC, load average %s %s %s, %d CPUs, Dovecot %s" % (
        time.strftime("%Y-%m-%d %H:%M", time.gmtime()), la[0], la[1], la[2], os.cpu_count(),
        dovecot_label())


# ---------------------------------------------------------------- the lab
def read_lab_env(path):
    import lab
    return lab.read_env(path)


def lab_slapd(env):
    import slapd_server
    return slapd_server.SlapdServer.from_state(env["SLAPD_DIR"])


def update_lab_state(env, name, pid):
    """The lab's stop() kills the process groups recorded in lab.json: a
    daemon (slapd, home1, ...) restarted here is recorded there and in
    lab.env, so it is stopped with the lab."""
    key = {"slapd": "SLAPD_PID"}.get(name, name.upper() + "_PID")
    state_path = os.path.join(env["LAB_DIR"], "lab.json")
    with open(state_path, "r", encoding="utf-8") as f:
        state = json.load(f)
    state["pgids"][name] = pid
    if name == "slapd":
        state.setdefault("slapd", {})["pid"] = pid
    if "env" in state:
        state["env"][key] = str(pid)
    with open(state_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1)
    os.replace(state_path + ".tmp", state_path)
    env_path = os.path.join(env["LAB_DIR"], "lab.env")
    with open(env_path, "r", encoding="utf-8") as f:
        lines = f.readlines()
    with open(env_path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write("export %s=%d\n" % (key, pid) if line.startswith("export %s=" % key) else line)
    env[key] = str(pid)


def restart_lab_slapd(env, while_stopped=None, kill=False):
    """Stops (or kills) the lab's slapd, runs while_stopped() if given, and
    starts it again on the same address and port; lab.json and lab.env follow
    the new pid.  Returns the running SlapdServer."""
    srv = lab_slapd(env)
    if kill:
        srv.kill()
    else:
        srv.stop()
    try:
        if while_stopped:
            while_stopped(srv)
    finally:
        srv.start()
        update_lab_state(env, "slapd", srv.pid)
    return srv


def slapadd_bulk(env, ldif_text, what):
    """Loads a large LDIF offline (slapd stopped, slapadd -q), much faster
    than ldapadd (no per-entry round trip, no per-entry index transaction).
    Entries that exist already are skipped (-c).  Returns seconds taken."""
    path = os.path.join(env["SLAPD_DIR"], "bulk-%d.ldif" % os.getpid())
    with open(path, "w", encoding="utf-8") as f:
        f.write(ldif_text)
    t0 = time.monotonic()

    def load(srv):
        p = subprocess.run(["slapadd", "-c", "-q", "-n1", "-F",
                            os.path.join(env["SLAPD_DIR"], "slapd.d"), "-l", path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1800)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0 and "already exists" not in out:
            raise PerfError("slapadd of %s failed (%d): %s" % (what, p.returncode, out[-2000:]))

    try:
        restart_lab_slapd(env, load)
    finally:
        os.unlink(path)
    return time.monotonic() - t0
