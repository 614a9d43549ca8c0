#!/usr/bin/env python3
"""perf_tools_smoke (ctest, label perf): keeps the benchmark tooling from
rotting.  Runs dref-imap-load for a few logins of each kind against the lab
fixture's front and checks that every reply lands in the class the user's
directory entry calls for (R2221-15: a wrong password is never a referral;
R2221-3: a user whose home is the front is served locally), that the JSON
summary is complete, that the /proc, schedstat (whole and by process) and
cn=Monitor readers of the benchmark drivers work, and that the confidence
interval of a paired median is the sign test's.  Not a timed test: it asserts on nothing but
classes and counts.

    perf_tools_smoke.py --loadgen PATH --env LAB_ENV
"""
import argparse
import os
import sys
import tempfile

import perf_common as pc
from cpu_placement import group_sched_ns, group_sched_ns_by_process, sched_ns_by_name
from paired_stats import median_ci

# Source addresses of the wrong-password logins, one per failure: Dovecot's
# auth penalty is per client IP, so the failures must neither slow down the
# fixture's other tests nor each other.
FAIL_SOURCES = {"login": ("127.0.0.76", "127.0.0.77"), "plain": ("127.0.0.78", "127.0.0.79")}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--env", required=True)
    args = ap.parse_args(argv)
    if not os.path.exists(args.env):
        print("FAIL: lab env file %s is missing (lab fixture not started)" % args.env)
        return 1
    env = pc.read_lab_env(args.env)
    failures = []
    with tempfile.TemporaryDirectory(prefix="dref-perf-smoke-") as tmp:
        counters = pc.SlapdCounters(pc.lab_slapd(env)).enable()
        before = counters.read()
        cpu0 = pc.group_cpu_seconds(int(env["FRONT_PID"]))
        for mech in ("login", "plain"):
            rows = []
            for source in FAIL_SOURCES[mech]:
                rows += [
                    (env["REFER_USER"], env["REFER_PASS"], "referral"),    # policy refer
                    (env["LOCAL_USER"], env["LOCAL_PASS"], "ok-local"),    # mailHost = the front
                    (env["HOME1_USER"], env["HOME1_PASS"], "ok-proxied"),  # default policy proxy
                    (env["HOME1_USER"], "wrong-password", "authfailed", source),
                ]
            users = pc.write_users(os.path.join(tmp, "users-" + mech), rows)
            r = pc.run_loadgen(args.loadgen, env["FRONT_ADDR"], env["FRONT_PORT"], users=users,
                               count=8, concurrency=4, mech=mech,
                               local_marker="MAILBOX-REFERRALS", timeout=15)
            print(r["text"])
            if r["sessions"] != 8:
                failures.append("%s: %d sessions, expected 8" % (mech, r["sessions"]))
            if r["unexpected"]:
                failures.append("%s: %d unexpected replies" % (mech, r["unexpected"]))
            for cls in ("referral", "ok-local", "ok-proxied", "authfailed"):
                if r["classes"].get(cls) != 2:
                    failures.append("%s: class %s counted %s, expected 2"
                                    % (mech, cls, r["classes"].get(cls)))
            for key in ("rate", "p50_ms", "p99_ms", "cpu_pct"):
                if key not in r:
                    failures.append("%s: JSON summary lacks %s" % (mech, key))
        ops = counters.diff(before, counters.read())
        if ops.get("Search", 0) <= 0:
            failures.append("cn=Monitor counted no LDAP search for %s" % ops)
        if pc.group_cpu_seconds(int(env["FRONT_PID"])) < cpu0:
            failures.append("front CPU seconds went backwards")
        # Positive, not "grown": an idle auth process Dovecot ended and
        # started anew takes its schedstat along (the reaped CPU above stays).
        if group_sched_ns(int(env["FRONT_PID"]))[0] <= 0:
            failures.append("schedstat: no run time found for the front's threads")
        # bench_login.py's run time by process: the front's auth process by
        # name, and a difference of two readings never negative
        by_process = group_sched_ns_by_process(int(env["FRONT_PID"]))
        by_name = sched_ns_by_name({}, by_process)
        if by_name.get("auth", 0) <= 0:
            failures.append("schedstat by process: no run time of auth in %r" % by_name)
        if min(sched_ns_by_name(by_process, group_sched_ns_by_process(
                int(env["FRONT_PID"]))).values(), default=0) < 0:
            failures.append("schedstat by process went backwards")
        if not pc.rss_by_comm(int(env["FRONT_PID"]), ("auth",))["auth"]:
            failures.append("no auth process found in the front's process group")
    # 10 values: the 2nd and 9th smallest, coverage 1 - 2 * 11/1024
    ci = median_ci([float(x) for x in range(10, 0, -1)])
    if ci != (5.5, 2.0, 9.0, 1.0 - 22.0 / 1024):
        failures.append("median_ci of 1..10 gave %r" % (ci,))
    for f in failures:
        print("FAIL: %s" % f)
    if not failures:
        print("perf_tools_smoke: OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
