#!/usr/bin/env python3
"""Benchmark of policy proxy-suggest against proxy (issue 11 item 4).

One "ours" bench front per login mode (tests/perf/perf_fronts.py; sc1 =
Dovecot's default login mode, sc0 = high-performance mode) next to a running
lab, with default_policy = proxy on its main listener and
listener_rule = proxy-suggest on its second listener, so both policies run
in the same processes.

1. Logins: the load generator logs alice and bob (homes 1 and 2) in and out
   --logins times on each listener, at --concurrency; proxy and
   proxy-suggest take turns within each round, in alternating order.
   Measured per pass: logins/s, p50/p99 latency (connect to tagged reply),
   the front's CPU per login (every process of its process group plus what
   its master reaped, from /proc).  Both are proxied logins: the difference
   is proxy-suggest's OK [REFERRAL] reply and its untagged CAPABILITY.
2. Download, per 100 MB: one client fetches all of alice's mail (--messages
   messages of --message-size bytes on home1)
   - proxied: through the front's proxy listener (what every client that
     does not follow referrals does on either policy);
   - following: LOGIN on the proxy-suggest listener, OK [REFERRAL url],
     LOGOUT, then the download straight from the home server in the URL
     (what a c-client application does).
   The front's CPU is measured over each whole session; CPU saved per
   100 MB = proxied - following, scaled to 100 MB.

    bench_proxy_suggest.py --env LAB_ENV --work DIR --build-dir B [--quick] [--json OUT]
"""
import os
import re
import sys
import time

import perf_common as pc
import perf_data
from bench_proxy import Conn, session_download
from perf_fronts import BenchFront, login_mode_label

USERS = ("alice", "bob")          # lab users on home1 and home2, no policy of their own
DOWNLOAD_USER = "alice"           # bench_proxy.session_download logs in as alice
POLICIES = ("proxy", "proxy-suggest")


def measure_logins(loadgen, front, port, users_file, count, concurrency, expect):
    cpu0 = pc.group_cpu_seconds(front.pid)
    r = pc.run_loadgen(loadgen, front.addr, port, users=users_file, count=count,
                       concurrency=concurrency, expect=expect, timeout=15)
    time.sleep(0.3)  # let the master reap the login processes (sc1)
    cpu = pc.group_cpu_seconds(front.pid) - cpu0
    n = max(r["sessions"], 1)
    return {"rate": r["rate"], "p50": r["p50_ms"], "p99": r["p99_ms"], "sessions": r["sessions"],
            "unexpected": r["unexpected"], "front_cpu_ms": 1000.0 * cpu / n,
            "classes": r["classes"]}


def following_download(front, password):
    """The c-client way: log in on the proxy-suggest listener, take the
    OK [REFERRAL] and go to the home server for the download."""
    c = Conn(front.addr, front.direct_port)
    reply = c.command("a", "LOGIN %s %s" % (DOWNLOAD_USER, password))
    m = re.match(rb"a OK \[REFERRAL imap://[^@\]]*@([^:/\]]+):?(\d*)/\]", reply)
    if not m:
        raise pc.PerfError("no OK [REFERRAL] from the proxy-suggest listener: %r" % reply)
    c.close()
    host, port = m.group(1).decode(), int(m.group(2) or 143)
    _, msgs, body = session_download(host, port, password)
    return c.sent + c.received, msgs, body


def measure_download(front, way, password):
    cpu0 = pc.group_cpu_seconds(front.pid)
    t0 = time.monotonic()
    if way == "proxied":
        c, msgs, body = session_download(front.addr, front.port, password)
        front_bytes = c.sent + c.received
    else:
        front_bytes, msgs, body = following_download(front, password)
    wall = time.monotonic() - t0
    time.sleep(0.3)
    return {"cpu_s": pc.group_cpu_seconds(front.pid) - cpu0, "front_bytes": front_bytes,
            "wall_s": wall, "messages": msgs, "body_bytes": body}


def run(args):
    env = pc.read_lab_env(args.env)
    loadgen = pc.find_loadgen(args.build_dir)
    rounds = 1 if args.quick else args.rounds
    logins = {"sc1": 60 if args.quick else args.sc1_logins,
              "sc0": 200 if args.quick else args.sc0_logins}
    count = 10 if args.quick else args.messages
    password = "pw-" + DOWNLOAD_USER
    maildir = os.path.join(env["LAB_DIR"], "home1", "mail", DOWNLOAD_USER, "Maildir")
    total = perf_data.make_big_mail(maildir, count, args.message_size)
    pc.log("bench proxy-suggest: %d messages, %.1f MB written to %s" % (count, total / 1e6, maildir))
    # Warm-up at home1: index files built, messages in the page cache.
    _, msgs, body = session_download(env["HOME1_ADDR"], env["HOME1_PORT"], password)
    results = {"machine": pc.machine_note(), "rounds": rounds, "logins": logins,
               "concurrency": args.concurrency, "messages": msgs, "bytes": body,
               "dovecot": pc.dovecot_label(), "modes": {}}
    uf = pc.write_users(os.path.join(args.work, "users-proxy-suggest"),
                        [(u, "pw-" + u) for u in USERS])
    for i, mode in enumerate(args.modes.split(",")):
        front = BenchFront("psug-" + mode, args.work, "127.0.0.%d" % (args.addr_base + 14 + i),
                           "ours", mode, env, [perf_data.passwd_line(u) for u in USERS],
                           settings_overrides={"default_policy": "proxy",
                                               "listener_rule": None, "client_id_rule": None,
                                               "cache_ttl": "60s", "negative_cache_ttl": "10s"})
        # After the front exists: its second listener's port is known now.
        front.settings_overrides["listener_rule"] = "proxy-suggest %s:%d" % (
            front.addr, front.direct_port)
        out = {"logins": {p: [] for p in POLICIES},
               "download": {"proxied": [], "following": []}}
        try:
            front.start()
            ports = {"proxy": front.port, "proxy-suggest": front.direct_port}
            expect = {"proxy": "ok", "proxy-suggest": "ok-referral"}
            for r in range(rounds):
                order = POLICIES if r % 2 == 0 else POLICIES[::-1]
                for p in order:
                    m = measure_logins(loadgen, front, ports[p], uf, logins[mode],
                                       args.concurrency, expect[p])
                    out["logins"][p].append(m)
                    pc.log("%s round %d %-13s %7.1f logins/s p50 %6.2f p99 %6.2f ms, front CPU "
                           "%.2f ms/login, unexpected %d" % (mode, r, p, m["rate"], m["p50"],
                                                             m["p99"], m["front_cpu_ms"],
                                                             m["unexpected"]))
                for way in (("proxied", "following") if r % 2 == 0 else ("following", "proxied")):
                    d = measure_download(front, way, password)
                    out["download"][way].append(d)
                    pc.log("%s round %d %-9s download: front CPU %.3f s, %d bytes via the "
                           "front, %.2f s" % (mode, r, way, d["cpu_s"], d["front_bytes"],
                                              d["wall_s"]))
        finally:
            front.stop()
        results["modes"][mode] = out
    return pc.publish(args, results, report)


def report(results):
    version = results.get("dovecot", "2.3")[:3]
    out = ["%s; %d rounds, proxy and proxy-suggest interleaved; median (min–max).\n"
           % (results["machine"], results["rounds"])]
    rows = []
    for mode, d in results["modes"].items():
        for p in POLICIES:
            passes = d["logins"][p]
            rows.append([mode, p, pc.mmm([x["rate"] for x in passes]),
                         pc.mmm([x["p50"] for x in passes], "%.2f"),
                         pc.mmm([x["p99"] for x in passes], "%.2f"),
                         pc.mmm([x["front_cpu_ms"] for x in passes], "%.2f"),
                         sum(x["unexpected"] for x in passes)])
    out.append("Logins (%s per pass, concurrency %d; login, then LOGOUT):\n"
               % ("/".join("%s %d" % kv for kv in results["logins"].items()),
                  results["concurrency"]))
    out.append(pc.table(["login mode", "policy", "logins/s", "p50 ms", "p99 ms",
                         "front CPU ms/login", "unexpected replies"], rows))
    rows = []
    # Both sessions include one login (proxy vs proxy-suggest: nearly the
    # same CPU, table above); their difference is the relay of the download,
    # scaled to 100 MB.
    scale = 100e6 / results["bytes"] if results["bytes"] else 0
    for mode, d in results["modes"].items():
        prox = d["download"]["proxied"]
        foll = d["download"]["following"]
        saved = [(a["cpu_s"] - b["cpu_s"]) * scale for a, b in zip(prox, foll)]
        rows.append([mode + " (%s)" % login_mode_label(mode, version),
                     pc.mmm([x["cpu_s"] for x in prox], "%.3f"),
                     pc.mmm([x["cpu_s"] for x in foll], "%.3f"),
                     pc.mmm(saved, "%.3f"),
                     pc.mmm([x["front_bytes"] for x in prox], "%d"),
                     pc.mmm([x["front_bytes"] for x in foll], "%d"),
                     pc.mmm([x["wall_s"] for x in prox], "%.2f"),
                     pc.mmm([x["wall_s"] for x in foll], "%.2f")])
    out.append("\nDownload of %d messages, %.1f MB, per session (login, SELECT, FETCH 1:*, "
               "LOGOUT); the front's CPU is counted in 10 ms ticks:\n"
               % (results["messages"], results["bytes"] / 1e6))
    out.append(pc.table(["login mode", "front CPU s, proxied", "front CPU s, following the hint",
                         "front CPU s saved per 100 MB", "bytes via the front, proxied",
                         "bytes via the front, following", "wall s, proxied",
                         "wall s, following"], rows))
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = pc.argument_parser(build_dir=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sc1-logins", type=int, default=300)
    ap.add_argument("--sc0-logins", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--message-size", type=int, default=1000 * 1000)
    ap.add_argument("--modes", default="sc1,sc0")
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    return 0 if run(args)["modes"] else 1


if __name__ == "__main__":
    sys.exit(main())
