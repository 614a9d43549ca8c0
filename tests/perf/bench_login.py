#!/usr/bin/env python3
"""Benchmark 1 (issue 6): login referrals through the front.

Variants (tests/perf/perf_fronts.py), all on one machine in one run, next to
the lab's slapd and home servers:
  ours    passwd-file + passdb referral + login plugin (the lab's configuration)
  native  Dovecot's native LDAP login referral (passdb ldap: host + nologin)
  static  passwd-file with host/nologin extra fields (no directory: Dovecot's own cost)
  local   plain local login (no plugins)
and, in high-performance mode only, ours-nac / native-nac: the same with
Dovecot's auth cache off (so "warm" is the directory client's own cache).
The LDAP password chain (issue 13): ours-ldap / ours-ldapb are ours with
Dovecot's passdb ldap checking the password (auth_bind = no / yes) instead
of passwd-file, ours-ldapf / ours-ldapfb the same with the referral_*
fields (docs/login-referrals.md 1.5: no search of passdb referral);
native-b is native with auth_bind = yes.  ours-ldapp is password mode
(docs/login-referrals.md 1.6): passdb referral alone, checking the password
against the userPassword its own search reads (one passdb, one search per
cold login).
native-aa (only when named in --variants) is a second native front, identical
to native: the A/A control, whose ratio against native shows the method's
own spread and any bias of position.  chain-static (only when named) is
ours' chain with Dovecot's own passdb static in place of passdb referral and
no plugin (perf_fronts.py): the floor of a two-passdb chain, compared with
native like ours.
With --before-build B a variant ours-before runs too: ours with the plugins
(login, imap and passdb driver) of build tree B, e.g. the previous commit,
interleaved with ours of --build-dir, which then also uses its own passdb
driver (perf_fronts.py: private mount namespaces).  --modes and --variants
select part of the matrix.

For each login mode (sc1 = service_count 1, the default; sc0 = service_count
0 + process_min_avail 2; on Dovecot 2.4 restart_request_count 1 / unlimited,
and native is 2.4's own LDAP passdb) and round, every variant runs a cold pass (users it
has never seen: fresh auth and directory caches) and a warm pass (the same
users again).  Variants take turns within a round, in a rotating order that
is reversed every second round (round_order()), and the report compares each
variant with native pass by pass within a round (paired ratios).
Measured per pass: logins/s at fixed concurrency, p50/p99 latency, LDAP binds
and searches per login (slapd's cn=Monitor counters), the front's CPU per
login (/proc ticks; in sc0 also schedstat's exact run time of the live
threads and the share of the pass the front ran on a CPU) and the
load generator's own CPU.  With --pin (cpu_placement.py) the fronts run on
the last CPU and the load generator, slapd and this driver on the others,
with --nice N all of them at that nice value: the same for every variant,
so that the front's own cost decides its rate.  With 6 rounds or more the
paired ratios carry a 95 % confidence interval of their median
(paired_stats.py).  The front's CPU per login is no
measure of the work alone: at a lower rate fewer logins share each ioloop
wake-up, so a slowed pass also costs more CPU per login (login_costs.py,
docs/benchmarks.md "Session 8").

    bench_login.py --env LAB_ENV --build-dir B --work DIR [--quick] [--json OUT]
                   [--modes sc1,sc0] [--variants ours,native,...] [--before-build B0]
                   [--auth-verbose yes|no] [--pin [--nice N]]
"""
import os
import sys
import time

import perf_common as pc
import perf_data
from cpu_placement import Placement, group_sched_ns, group_sched_ns_by_process, sched_ns_by_name
from interleaved_passes import interleaved_round
from paired_stats import median_ci, paired
from perf_fronts import VARIANTS as FRONT_VARIANTS, BenchFront, login_mode_label

VARIANT_ADDR = {"ours": 64, "native": 65, "static": 66, "local": 67, "ours-nac": 68,
                "native-nac": 69, "ours-before": 70, "ours-ldap": 71, "ours-ldapb": 72,
                "ours-ldapf": 73, "ours-ldapfb": 74, "native-b": 75, "ours-ldapp": 76, "native-aa": 77,
                "chain-static": 78}
# ours-ldap*: the password passdb is passdb ldap (perf_fronts.password_ldap_conf)
LDAP_CHAIN = {"ours-ldap": {"bind": False, "fields": False},
              "ours-ldapb": {"bind": True, "fields": False},
              "ours-ldapf": {"bind": False, "fields": True},
              "ours-ldapfb": {"bind": True, "fields": True},
              # password mode: no passdb ldap, passdb referral checks the password
              "ours-ldapp": {"password_mode": True}}
SC0_ONLY = ("ours-nac", "native-nac")
# The A/A control: a second front identical to native.  Against native it
# must come out at 1.00x; its interval is the method's own resolution, its
# median any bias of position or address.
AA_CONTROL = "native-aa"
# Dovecot's cheapest second passdb behind ours' password passdb (issue 13
# item 3): what no second passdb can go below.
CHAIN_FLOOR = "chain-static"
# Variants run only when --variants names them.
ON_REQUEST = (AA_CONTROL, CHAIN_FLOOR)


def variant_kind(variant):
    """The perf_fronts.BenchFront variant a bench variant is made of: its
    name when it is one (chain-static), else the part before the first "-"
    (ours-ldapf: ours, native-aa: native)."""
    return variant if variant in FRONT_VARIANTS else variant.split("-")[0]


def front_addr(args, variant, variants):
    """The front address of `variant`: --addr-base plus its fixed offset in
    VARIANT_ADDR, or with --front-base the variants of this run on
    consecutive addresses from there (a private address range too small for
    the fixed offsets)."""
    if args.front_base is not None:
        return "127.0.0.%d" % (args.front_base + variants.index(variant))
    return "127.0.0.%d" % (args.addr_base + VARIANT_ADDR[variant] - 60)


def variant_plugins(args, variant):
    """(variant without its tag, its kind, its plugin build tree) for the
    fronts of callgrind_login.py and login_costs.py: with --before-build,
    <variant>@before takes the plugins of that tree and the ours* variants
    without the tag those of --build-dir (absolute: the front's service
    paths are made from it); None: the lab's."""
    base, _, tag = variant.partition("@")
    kind = variant_kind(base)
    if args.before_build and kind == "ours":
        return base, kind, os.path.abspath(args.before_build if tag == "before" else args.build_dir)
    if tag:
        raise pc.PerfError("%s: only ours* variants take @before (with --before-build)" % variant)
    return base, kind, None


def add_front_base_argument(ap):
    ap.add_argument("--front-base", type=int,
                    help="put the fronts on 127.0.0.N, N+1, ... in the order of --variants "
                         "instead of --addr-base + their fixed offsets")
CACHELESS = ("static", "local")  # no directory: one pass per round


def cpu_ticks_by_process(pgid):
    """{(pid, comm): utime+stime ticks} of the live processes of a front,
    plus ("reaped", ...): the master's cutime+cstime, i.e. the processes it
    has reaped (in login mode sc1 almost only imap-login processes)."""
    out = {}
    for pid in pc._pids():
        st = pc._stat(pid)
        if st and st[1] == pgid:
            out[(pid, st[0])] = st[2]
            if pid == pgid:
                out[(0, "reaped (imap-login)")] = st[3]
    return out


def cpu_ms_by_comm(before, after, n):
    """CPU ms per login by process name between two cpu_ticks_by_process()."""
    by = {}
    for key, ticks in after.items():
        by[key[1]] = by.get(key[1], 0) + ticks - before.get(key, 0)
    return {comm: 1000.0 * t / pc.CLK_TCK / n for comm, t in by.items()}


def round_order(variants, r):
    """The order of the variants in round r: a rotation, reversed in every
    odd round (ABBA counterbalancing).  With a plain rotation and fewer
    rounds than variants the positions do not even out (with 2 rounds and
    4 variants one variant ran 2nd and 1st, another 4th and 3rd); a
    position may matter (the first cold pass of a round meets slapd's
    caches cold for that round's users, and the machine's load drifts
    during a round).  Reversing every second round gives every variant the
    same mean position after any even number of rounds."""
    k = (r // 2) % len(variants)
    order = variants[k:] + variants[:k]
    return order[::-1] if r % 2 else order


def measure(loadgen, counters, front, users_file, count, concurrency, expect, placement=None,
            events=None):
    if placement is not None:
        placement.place_front(front.pid)  # also any process the master started since
    before_ops = counters.read()
    before_cpu = pc.group_cpu_seconds(front.pid)
    before_by = cpu_ticks_by_process(front.pid)
    before_sched = group_sched_ns(front.pid)
    before_sched_by = group_sched_ns_by_process(front.pid)
    r = pc.run_loadgen(loadgen, front.addr, front.port, users=users_file, count=count,
                       concurrency=concurrency, expect=expect, timeout=15, events=events)
    after_sched = group_sched_ns(front.pid)
    after_sched_by = group_sched_ns_by_process(front.pid)
    cpu = pc.group_cpu_seconds(front.pid) - before_cpu
    after_by = cpu_ticks_by_process(front.pid)
    ops = counters.diff(before_ops, counters.read())
    n = max(r["sessions"], 1)
    run_ns = after_sched[0] - before_sched[0]
    elapsed = max(r.get("elapsed_s", 0.0), 1e-9)
    return {
        "rate": r["rate"], "p50": r["p50_ms"], "p99": r["p99_ms"], "sessions": r["sessions"],
        "unexpected": r["unexpected"], "classes": r["classes"], "examples": r["examples"],
        "binds": ops.get("Bind", 0) / n, "searches": ops.get("Search", 0) / n,
        "front_cpu_ms": 1000.0 * cpu / n, "loadgen_cpu_pct": r["cpu_pct"],
        "front_cpu_ms_by": cpu_ms_by_comm(before_by, after_by, n),
        # schedstat of the live threads (exact; sc1's reaped logins are not in it)
        "front_run_ms": run_ns / 1e6 / n, "front_busy_pct": 100.0 * run_ns / 1e9 / elapsed,
        # the same by process name: which process carries a difference
        "front_run_ms_by": {comm: ns / 1e6 / n for comm, ns
                            in sched_ns_by_name(before_sched_by, after_sched_by).items()},
        # processes of the front that were not there before the pass (in
        # sc0 a login that started one, e.g. an imap process, would show)
        "new_processes": len({pid for pid, _ in after_sched_by}
                             - {pid for pid, _ in before_sched_by}),
        "elapsed_s": r.get("elapsed_s"),
    }


def run(args):
    placement = None
    if args.pin:
        placement = Placement.split(nice=args.nice)
        if placement is None:
            raise pc.PerfError("--pin: this machine has one CPU")
        placement.place_self()
    env = pc.read_lab_env(args.env)
    loadgen = pc.find_loadgen(args.build_dir)
    slapd = pc.lab_slapd(env)
    counters = pc.SlapdCounters(slapd).enable()
    rounds = 1 if args.quick else args.rounds
    per_round = {"sc1": 40 if args.quick else args.sc1_logins,
                 "sc0": 200 if args.quick else args.sc0_logins}
    modes = args.modes.split(",")
    n_users = rounds * max(per_round.values())
    pc.log("bench login: %d users in LDAP and passwd files, %d round(s)" % (n_users, rounds))
    perf_data.raise_db_size(slapd)
    secs = pc.slapadd_bulk(env, perf_data.users_ldif(env, 0, n_users, env["HOME1_ADDR"]),
                                   "bench users")
    pc.log("slapadd of %d users: %.1f s" % (n_users, secs))
    if placement is not None:
        placement.place_rest(int(env["SLAPD_PID"]))  # slapd runs anew after slapadd
        pc.log("placement: " + placement.describe())
    users = [perf_data.bench_user(i) for i in range(n_users)]
    plain = [perf_data.passwd_line(u) for u in users]
    static = [perf_data.passwd_line(u, perf_data.static_referral_fields(env)) for u in users]
    passwd = {"ours": plain, "native": [], "static": static, "local": plain,
              "ours-nac": plain, "native-nac": [], "ours-before": plain, "native-b": [],
              AA_CONTROL: [], CHAIN_FLOOR: plain}
    passwd.update({v: [] for v in LDAP_CHAIN})
    results = {"modes": {}, "machine": pc.machine_note(), "rounds": rounds,
               "dovecot": pc.dovecot_label(),
               "auth_module": os.path.realpath("/usr/lib/dovecot/modules/auth/libauthdb_referral.so"),
               "concurrency": args.concurrency, "per_round": per_round,
               "before_build": args.before_build, "auth_verbose": args.auth_verbose,
               "placement": placement.describe() if placement else None,
               "chunk": args.chunk}
    extra_conf = "" if args.auth_verbose is None else "auth_verbose = %s\n" % args.auth_verbose
    for mode in modes:
        variants = ["ours", "native", "static", "local"] + list(LDAP_CHAIN) + ["native-b"]
        if mode == "sc0":
            variants += ["ours-nac", "native-nac"]
        if args.variants and AA_CONTROL in args.variants.split(","):
            variants.insert(variants.index("native") + 1, AA_CONTROL)
        if args.variants and CHAIN_FLOOR in args.variants.split(","):
            variants.insert(variants.index("ours") + 1, CHAIN_FLOOR)
        if args.before_build:
            variants.insert(1, "ours-before")
        if args.variants:
            variants = [v for v in variants if v in args.variants.split(",")]
        fronts = {}
        try:
            for v in variants:
                kind = variant_kind(v)
                build = None
                # the shipped defaults, not the lab's 2 s test caches
                overrides = {"cache_ttl": "60s", "negative_cache_ttl": "10s"}
                if args.before_build and v in ("ours", "ours-before"):
                    build = args.before_build if v == "ours-before" else args.build_dir
                    # Keys newer than the before build would stop its
                    # plugins (unknown setting): both sides without them.
                    for key in args.drop_setting:
                        overrides[key] = None
                fronts[v] = BenchFront("bench-%s-%s" % (v, mode), args.work,
                                       front_addr(args, v, variants), kind, mode,
                                       env, passwd[v], auth_cache=not v.endswith("-nac"),
                                       settings_overrides=overrides, plugin_build=build,
                                       extra_conf=extra_conf, password_ldap=LDAP_CHAIN.get(v),
                                       native_bind=v == "native-b").start()
            pc.log("%s: fronts up (%s)" % (mode, ", ".join("%s %s:%d" % (v, f.addr, f.port)
                                                           for v, f in fronts.items())))
            out = {v: {"cold": [], "warm": []} for v in variants}
            n = per_round[mode]
            started = time.monotonic()
            try:
                for r in range(rounds):
                    # --budget: whole pairs of rounds (ABBA) while the next pair
                    # is expected to end within the budget
                    if args.budget and r and r % 2 == 0 and \
                            (time.monotonic() - started) * (r + 2) / r > args.budget:
                        pc.log("%s: %d rounds within the budget of %d s" % (mode, r, args.budget))
                        break
                    if args.chunk:
                        rows = [(u, "pw-" + u) for u in users[r * n:(r + 1) * n]]
                        passes = interleaved_round(
                            variants, rows, args.chunk, args.work, round_order,
                            lambda v, f, count, ev: measure(
                                loadgen, counters, fronts[v], f, count, args.concurrency,
                                "ok" if v == "local" else "referral", placement, ev),
                            CACHELESS, r * len(range(0, n, args.chunk)))
                        for v in variants:
                            for cache, p in passes[v].items():
                                out[v][cache].append(p)
                            log_round(mode, r, v, passes[v])
                        continue
                    uf = pc.write_users(os.path.join(args.work, "users-%s-%d" % (mode, r)),
                                        [(u, "pw-" + u) for u in users[r * n:(r + 1) * n]])
                    order = round_order(variants, r)
                    for v in order:
                        expect = "ok" if v == "local" else "referral"
                        passes = {"cold": measure(loadgen, counters, fronts[v], uf, n,
                                                  args.concurrency, expect, placement)}
                        if v not in CACHELESS:
                            passes["warm"] = measure(loadgen, counters, fronts[v], uf, n,
                                                     args.concurrency, expect, placement)
                        for cache, p in passes.items():
                            out[v][cache].append(p)
                        log_round(mode, r, v, passes)
            except KeyboardInterrupt:
                # timeout -s INT: the rounds that ended are still reported
                pc.log("%s: interrupted in round %d" % (mode, len(out[variants[0]]["cold"])))
                results["interrupted"] = mode
            results["modes"][mode] = out
            if results.get("interrupted"):
                break
        finally:
            for f in fronts.values():
                f.stop()
    return pc.publish(args, results, report)


def log_round(mode, r, v, passes):
    cold = passes["cold"]
    line = "%s round %d %-10s cold %7.1f/s p50 %6.2f p99 %6.2f ms binds %.3f searches %.3f" % (
        mode, r, v, cold["rate"], cold["p50"], cold["p99"], cold["binds"], cold["searches"])
    if "warm" in passes:
        warm = passes["warm"]
        line += " | warm %7.1f/s p50 %6.2f p99 %6.2f searches %.3f" % (
            warm["rate"], warm["p50"], warm["p99"], warm["searches"])
    pc.log(line)


def _col(passes, key, fmt="%.1f"):
    return pc.mmm([p[key] for p in passes], fmt)


def reference(v, data):
    """The variant v is compared with (native, or native-nac for -nac), or
    None: ours*, the A/A control native-aa and chain-static have one."""
    ref_name = "native" + ("-nac" if v.endswith("-nac") else "")
    if (v.startswith("ours") or v in ON_REQUEST) and ref_name in data:
        return ref_name
    return None


def report(results):
    out = []
    for mode, data in results["modes"].items():
        n_rounds = max(len(d["cold"]) for d in data.values())
        with_ci = n_rounds >= 6
        # schedstat columns: runs since session 9, and sc0 only (sc1's
        # login processes end within the pass and take their schedstat along)
        sched = mode == "sc0" and all("front_run_ms" in p for d in data.values()
                                      for passes in d.values() for p in passes)
        rows = []
        for v, d in data.items():
            for cache in ("cold", "warm"):
                passes = d[cache]
                if not passes:
                    continue
                ratio = p99_ratio = cpu_ratio = ""
                ref_name = reference(v, data)
                if ref_name and data[ref_name][cache]:
                    ref = data[ref_name][cache]
                    ratio = paired(passes, ref, "rate", with_ci)
                    p99_ratio = paired(passes, ref, "p99", with_ci)
                    if sched:
                        cpu_ratio = paired(passes, ref, "front_run_ms", with_ci)
                unexpected = sum(p["unexpected"] for p in passes)
                row = [v, cache if v not in CACHELESS else "n/a",
                       _col(passes, "rate"), ratio, _col(passes, "p50", "%.2f"),
                       _col(passes, "p99", "%.2f"), p99_ratio,
                       _col(passes, "binds", "%.3f"), _col(passes, "searches", "%.3f"),
                       _col(passes, "front_cpu_ms", "%.2f")]
                if sched:
                    row += ["%.3f" % pc.med([p["front_run_ms"] for p in passes]), cpu_ratio,
                            "%.0f" % pc.med([p["front_busy_pct"] for p in passes])]
                rows.append(row + [_col(passes, "loadgen_cpu_pct", "%.0f"), unexpected])
        # Runs before the 2.4 port recorded no version: they were 2.3.
        version = results.get("dovecot", "2.3")[:3]
        out.append("#### Login mode %s (%s), %d logins per pass, concurrency %d, %d rounds\n\n" % (
            mode, login_mode_label(mode, version), results["per_round"][mode],
            results["concurrency"], n_rounds))
        if results.get("placement"):
            out.append("Placement: %s.\n" % results["placement"])
        if results.get("chunk"):
            out.append("Passes interleaved in chunks of %d logins, a round's cold passes "
                       "first.\n" % results["chunk"])
        headers = ["variant", "cache", "logins/s", "vs native (paired)", "p50 ms", "p99 ms",
                   "p99 vs native (paired)", "binds/login", "searches/login",
                   "front CPU ms/login"]
        if sched:
            headers += ["front run ms/login (schedstat)", "run vs native (paired)",
                        "front busy %"]
        out.append(pc.table(headers + ["loadgen CPU %", "unexpected"], rows))
        out.append("\n")
        if with_ci:
            out.append("Paired: median of the per-round ratios against native's pass of the "
                       "same round, [95 %% confidence interval of that median: sign test, "
                       "order statistics] (range).  %s against native is the A/A control: "
                       "two identical fronts; its interval is what the method can resolve.\n"
                       % AA_CONTROL)
        out.append(breakdown(data))
        if sched:
            out.append(run_breakdown(data, with_ci))
    return "\n".join(out)


def breakdown(data):
    """Front CPU ms per login by process, median over the rounds."""
    comms = sorted({c for d in data.values() for passes in d.values() for p in passes
                    for c in p.get("front_cpu_ms_by", {})})
    if not comms:
        return ""
    rows = []
    for v, d in data.items():
        for cache in ("cold", "warm"):
            passes = d[cache]
            if passes:
                rows.append([v, cache if v not in CACHELESS else "n/a"] +
                            ["%.2f" % pc.med([p.get("front_cpu_ms_by", {}).get(c, 0.0)
                                              for p in passes]) for c in comms])
    return ("Front CPU ms per login by process (median of the rounds; /proc ticks of "
            "10 ms over the pass):\n\n" + pc.table(["variant", "cache"] + comms, rows) + "\n")


def run_breakdown(data, with_ci):
    """Front run time (schedstat, exact) per login by process: the median
    of the rounds in µs and, for the variants compared with native, the
    median of the per-round differences from native's pass of the same
    round [95 % interval]: which process carries a difference in the
    front's run time."""
    comms = sorted({c for d in data.values() for passes in d.values() for p in passes
                    for c in p.get("front_run_ms_by", {})})
    if not comms:
        return ""

    def us(p, comm):
        return 1000.0 * p.get("front_run_ms_by", {}).get(comm, 0.0)

    rows = []
    for v, d in data.items():
        ref_name = reference(v, data)
        for cache in ("cold", "warm"):
            passes = d[cache]
            if not passes:
                continue
            row = [v, cache if v not in CACHELESS else "n/a"]
            for comm in comms:
                cell = "%.1f" % pc.med([us(p, comm) for p in passes])
                if ref_name and data[ref_name][cache]:
                    diffs = [us(p, comm) - us(r, comm)
                             for p, r in zip(passes, data[ref_name][cache])]
                    med, lo, hi, _ = median_ci(diffs)
                    cell += " (%+.1f" % med
                    cell += " [%+.1f…%+.1f])" % (lo, hi) if with_ci and lo is not None else ")"
                row.append(cell)
            row.append("%d" % sum(p.get("new_processes", 0) for p in passes))
            rows.append(row)
    return ("Front run time per login by process, µs (schedstat; median of the rounds, "
            "(paired difference from native [95 % interval])), and processes of the front "
            "started during the passes:\n\n"
            + pc.table(["variant", "cache"] + comms + ["new processes"], rows) + "\n")


def main(argv=None):
    ap = pc.argument_parser(build_dir=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sc1-logins", type=int, default=400)
    ap.add_argument("--sc0-logins", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--modes", default="sc1,sc0", help="comma-separated: sc1, sc0")
    ap.add_argument("--variants", help="comma-separated subset (default: all of the mode)")
    add_front_base_argument(ap)
    ap.add_argument("--before-build", help="build tree of the variant ours-before")
    ap.add_argument("--drop-setting", action="append", default=["allowed_hosts"],
                    help="with --before-build: settings-file key left out for ours and "
                         "ours-before (repeatable; default: allowed_hosts)")
    ap.add_argument("--auth-verbose", choices=("yes", "no"),
                    help="auth_verbose for every front (default: the lab template's, yes)")
    ap.add_argument("--pin", action="store_true",
                    help="fronts on the last CPU, load generator, slapd and this driver on the "
                         "others (cpu_placement.py; the same for every variant)")
    ap.add_argument("--chunk", type=int,
                    help="cut every pass into chunks of this many logins that the variants run "
                         "in turn, all cold passes of a round first (interleaved_passes.py)")
    ap.add_argument("--budget", type=int,
                    help="seconds: run rounds in pairs, up to --rounds, while the next pair "
                         "is expected to end within this time of the mode's first round")
    ap.add_argument("--nice", type=int,
                    help="with --pin: nice value of every placed thread (e.g. -19: other work "
                         "on the machine gets little of a CPU the benchmark wants)")
    args = ap.parse_args(argv)
    if args.nice is not None and not args.pin:
        ap.error("--nice needs --pin")
    os.makedirs(args.work, exist_ok=True)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
