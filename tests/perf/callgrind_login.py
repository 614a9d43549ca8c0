#!/usr/bin/env python3
"""Instruction counts per warm (or, with --cold, cold) login, by process
(issue 13, item 3).

The timing figures of bench_login.py move with the machine's load; exact
instruction counts do not.  This VM exposes no hardware counters to
`perf stat`, so the front's auth, imap-login and log processes run under
valgrind's callgrind: for each variant (sc0 front of bench_login.py) a cold
pass fills the caches and one warm pass warms up; the same front is run
twice, once with N more warm logins, and the difference of the processes'
exit dumps divided by N is what one warm login costs.  With --cold the N
more logins are those of N other users, whom no pass of that front has seen
(no cache of the front knows them; the directory is searched for each), so
the difference is what one cold login costs.  The per-function profiles
stay in WORK/callgrind-<variant>-{0,1}/ for callgrind_annotate.

    callgrind_login.py --env LAB_ENV --build-dir B --work DIR [--logins N] [--cold]
                       [--variants ours,native,static,...] [--before-build B0]
                       [--valgrind LAUNCHER] [--json OUT]

Variant static is ours' password passdb (passwd-file) with Dovecot's own
referral from its extra fields in place of the referral passdb and the
plugins: ours against static compares the two referrals behind the same
password check.  Variant chain-static is ours' chain with Dovecot's
passdb static (static's fields) in place of passdb referral and no
plugin: the floor of a two-passdb chain.  On Dovecot 2.4 the Debian 13
root has no valgrind; --valgrind takes a wrapper of one unpacked there
without installing it (docs/benchmarks.md, "Session 14: where 2.4's warm
login costs us more").

With --before-build B0, a variant named <variant>@before (e.g. ours@before,
ours-ldapf@before) is that variant with the plugins of build tree B0 (the
passdb driver through a private mount namespace, as bench_login.py's
ours-before), and the ours* variants without the suffix take theirs from
--build-dir: a change and its base measured in one lab session.
"""
import glob
import os
import re
import shutil
import sys

import perf_common as pc
import perf_data
from bench_login import LDAP_CHAIN, add_front_base_argument, front_addr, variant_plugins
from perf_fronts import BenchFront
import lab_dovecot

PROCESSES = ("auth", "imap-login", "log")
BINARIES = {"auth": "/usr/lib/dovecot/auth", "imap-login": "/usr/lib/dovecot/imap-login",
            "log": "/usr/lib/dovecot/log"}


def valgrind_conf(out_dir, cache_sim=False, valgrind="/usr/bin/valgrind"):
    """Service blocks that run the measured processes under callgrind
    (imap-login unchrooted: valgrind is not inside the chroot).  cache_sim:
    callgrind also simulates the caches (first-level and last-level misses
    of instruction fetches, reads and writes), for work that the
    instruction count does not show.  valgrind: the launcher (a wrapper
    script of an unpacked valgrind where none is installed, as in the
    Debian 13 root of Dovecot 2.4)."""
    conf = lab_dovecot.conf_import_environment({"GDB": 1})
    for name in PROCESSES:
        conf += ("service %s {\n  executable = %s --tool=callgrind -q %s"
                 "--callgrind-out-file=%s/%s.%%p.out %s\n%s}\n"
                 % (name, valgrind, "--cache-sim=yes " if cache_sim else "", out_dir, name,
                    BINARIES[name], "  chroot =\n" if name == "imap-login" else ""))
    return conf


def hand_over_dumps(out_dir):
    """callgrind creates its output file at start, as root, before the
    process drops its privileges; give each file to its process's user so
    that the exit dump can be written."""
    for path in glob.glob(os.path.join(out_dir, "*.out")):
        pid = int(os.path.basename(path).split(".")[1])
        try:
            with open("/proc/%d/status" % pid, encoding="ascii") as f:
                uid = int(re.search(r"(?m)^Uid:\s+\d+\s+(\d+)", f.read()).group(1))
            gid = os.stat("/proc/%d" % pid).st_gid
        except (OSError, AttributeError):
            continue
        os.chown(path, uid, gid)


def totals(out_dir, events=None):
    """{process: instructions} of the exit dumps in out_dir; with events (a
    dict), events[process] gets every event of the dumps ({"Ir": ...,
    "D1mr": ...} with the cache simulation)."""
    by = {}
    for path in glob.glob(os.path.join(out_dir, "*.out*")):
        name = os.path.basename(path).split(".")[0]
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        m = re.search(r"(?m)^(?:summary|totals): (\d+)", text)
        if m:
            by[name] = by.get(name, 0) + int(m.group(1))
        names = re.search(r"(?m)^events: (.+)$", text)
        values = re.search(r"(?m)^(?:summary|totals): (.+)$", text)
        if events is not None and names and values:
            d = events.setdefault(name, {})
            for k, v in zip(names.group(1).split(), values.group(1).split()):
                d[k] = d.get(k, 0) + int(v)
    return by


def passwd_lines(kind, base, plain, env):
    """The front's passwd-file lines: none where LDAP has the passwords
    (native, the LDAP chains), with Dovecot's own referral fields for
    static (its referral comes from the password passdb), else plain."""
    if kind == "native" or base in LDAP_CHAIN:
        return []
    if kind == "static":
        return [perf_data.passwd_line(line.split(":", 1)[0], perf_data.static_referral_fields(env))
                for line in plain]
    return plain


def run(args):
    env = pc.read_lab_env(args.env)
    loadgen = pc.find_loadgen(args.build_dir)
    slapd = pc.lab_slapd(env)
    n = args.logins
    plain, files = perf_data.warm_login_users(env, slapd, n, os.path.join(args.work, "users-cg"),
                                              sets=2)
    uf, fresh = files
    results = {"logins": n, "dovecot": pc.dovecot_label(), "machine": pc.machine_note(),
               "cold": args.cold, "variants": {}}
    for v in args.variants.split(","):
        # Two lives of the same front: cold + warm, and cold + warm + N warm
        # logins more (--cold: N logins of the other users, cold); the
        # difference of their exit dumps is N such logins (start-up,
        # shutdown and warm-up cancel out).  callgrind_control
        # cannot be used: it gets no answer from processes that wait in
        # epoll_wait as other users.
        lives = []
        for extra in (0, 1):
            out_dir = os.path.join(args.work, "callgrind-%s-%d" % (v.replace("@", "-"), extra))
            shutil.rmtree(out_dir, ignore_errors=True)
            os.makedirs(out_dir)
            os.chmod(out_dir, 0o777)  # the processes write as their own users
            base, kind, build = variant_plugins(args, v)
            front = BenchFront("cg-%s" % v.replace("@", "-"), args.work,
                               front_addr(args, v, args.variants.split(",")), kind, "sc0",
                               env, passwd_lines(kind, base, plain, env),
                               settings_overrides={"cache_ttl": "60s", "negative_cache_ttl": "10s"},
                               extra_conf=valgrind_conf(out_dir, args.cache_sim, args.valgrind),
                               password_ldap=LDAP_CHAIN.get(base), plugin_build=build)
            passes = []
            try:
                front.start()
                for i in range(2 + extra):  # cold, warm (, the measured pass)
                    if i == 1:
                        hand_over_dumps(out_dir)
                    users = fresh if i == 2 and args.cold else uf
                    passes.append(pc.run_loadgen(loadgen, front.addr, front.port, users=users,
                                                 count=n, concurrency=args.concurrency,
                                                 expect="referral", timeout=120))
            finally:
                front.stop()
            pc.wait_for(lambda: len(totals(out_dir)) >= len(PROCESSES), 30)
            events = {}
            totals(out_dir, events)
            lives.append((totals(out_dir), passes, events))
        (t0, _, e0), (t1, passes, e1) = lives
        measured = passes[-1]
        n_measured = max(measured["sessions"], 1)
        per = {k: (t1.get(k, 0) - t0.get(k, 0)) / n_measured for k in t1}
        per_event = {p: {k: (x - e0.get(p, {}).get(k, 0)) / n_measured for k, x in d.items()}
                     for p, d in e1.items()}
        results["variants"][v] = {"per_login": per, "sessions": measured["sessions"],
                                  "events_per_login": per_event,
                                  "unexpected": sum(p["unexpected"] for p in passes),
                                  "dir": os.path.join(args.work,
                                                      "callgrind-%s-1" % v.replace("@", "-"))}
        pc.log("%-10s %s" % (v, "  ".join("%s %.0f" % kv for kv in sorted(per.items()))))
    return pc.publish(args, results, report)


def report(results):
    rows = []
    ref = results["variants"].get("native", {}).get("per_login", {})
    for v, d in results["variants"].items():
        per = d["per_login"]
        total = sum(per.get(p, 0) for p in PROCESSES)
        rows.append([v] + ["%.0f" % per.get(p, 0) for p in PROCESSES] + ["%.0f" % total] +
                    ["%+.0f" % (total - sum(ref.get(p, 0) for p in PROCESSES)) if ref else ""]
                    + [d["unexpected"]])
    out = ("Instructions per %s login (callgrind, sc0, %d logins, Dovecot %s)\n\n"
           % ("cold" if results.get("cold") else "warm", results["logins"], results["dovecot"]) +
           pc.table(["variant"] + list(PROCESSES) + ["total", "vs native", "unexpected"], rows))
    events = [e for e in ("I1mr", "ILmr", "D1mr", "DLmr", "D1mw", "DLmw")
              if any(e in d.get(p, {}) for x in results["variants"].values()
                     for d in [x.get("events_per_login", {})] for p in PROCESSES)]
    if events:
        rows = []
        for v, d in results["variants"].items():
            per = d.get("events_per_login", {})
            rows.append([v] + ["%.0f" % sum(per.get(p, {}).get(e, 0) for p in PROCESSES)
                               for e in events] +
                        [" / ".join("%.0f" % sum(per.get(p, {}).get(e, 0) for e in events)
                                    for p in PROCESSES)])
        out += ("\n\nSimulated cache misses per login (callgrind --cache-sim=yes; "
                "I1/D1 first level, IL/DL last level; r read, w write), all three processes:\n\n"
                + pc.table(["variant"] + events + ["all misses: auth / imap-login / log"], rows))
    return out


def main(argv=None):
    ap = pc.argument_parser(build_dir=True)
    ap.add_argument("--logins", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--variants", default="native,ours,ours-ldapf")
    ap.add_argument("--cold", action="store_true",
                    help="measure cold logins: the measured pass logs in N users no pass "
                         "of the front has seen")
    ap.add_argument("--cache-sim", action="store_true",
                    help="callgrind's cache simulation too: cache misses per warm login")
    ap.add_argument("--valgrind", default="/usr/bin/valgrind",
                    help="valgrind launcher the services run (default /usr/bin/valgrind); "
                         "the path must be one the lab's Dovecot can execute")
    ap.add_argument("--before-build",
                    help="build tree of the variants <variant>@before (ours* only)")
    add_front_base_argument(ap)
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
