#!/usr/bin/env python3
"""Benchmark: the cost of the mailbox relay (issue 12 item 6,
docs/mailbox-relay.md, docs/benchmarks.md "Mailbox relay cost").

On the lab of scripts/perf.sh: carol's home server is the front, and home2
owns Shared/Projects (a public mailbox) and accepts the lab's master user.
The script turns the relay on in the front's settings file (restored at the
end), puts the same N messages (default 1,000, about 1.5 kB each) into

  Shared/Projects/bench-relay  on home2 (below the remote entry: relayed)
  bench-relay-local            on the front (carol's own Maildir)

and runs, per round and interleaved (the order rotates every round), one
session of each case, each from a new connection:

  direct   carol at home2 itself: SELECT + FETCH of the N headers
  relay    carol at the front, the mailbox relayed to home2 (imapc)
  local    carol at the front, the local copy (what serving it locally costs)

  FETCH 1:N (UID RFC822.SIZE BODY.PEEK[HEADER]), timed from sending SELECT
  to the FETCH's tagged reply ("first"), then the same FETCH again in the
  same session ("again": what imapc's in-memory cache saves).

Per session, read from /proc before LOGOUT: the CPU (utime+stime) and the
memory (VmHWM, VmRSS; VmRSS right after LOGIN and after SELECT too, so
"after FETCH - after SELECT" is what the FETCH added: for the relay that is
imapc's in-memory index and cache of N messages) of the session's imap
process on the front (relay, local) or home2 (direct), and the CPU of every
imap process home2 ran for a relayed session (imapc's connections).

    bench_relay.py --env LAB_ENV --work DIR [--quick] [--rounds N]
                   [--messages N] [--json OUT]
"""
import imaplib
import sys
import time

import perf_common as pc
from imap_client import ImapClient

BENCH_REMOTE = "Shared/Projects/bench-relay"
BENCH_LOCAL = "bench-relay-local"


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise pc.PerfError("no %s for pid %d" % (key, pid))


def cpu_ms(pid):
    st = pc._stat(pid)
    if st is None:
        raise pc.PerfError("imap process %d is gone" % pid)
    return st[2] * 1000.0 / pc.CLK_TCK


def imap_pids(master_pid):
    return sorted(pid for pid, comm, _ in pc.group_processes(master_pid) if comm == "imap")


def wait_no_imap(*masters):
    pc.wait_for(lambda: not any(imap_pids(m) for m in masters), 15)


def message(i, n):
    """A message with the headers of a real list mail (about 1.5 kB)."""
    hdr = ("Return-Path: <list-%d@example.test>\r\n"
           "Received: from mx%d.example.test (mx%d.example.test [192.0.2.%d])\r\n"
           "\tby home2.example.test with ESMTPS id %08x\r\n"
           "\tfor <carol@example.test>; Sun, 6 Dec 2026 10:%02d:%02d +0000\r\n"
           "Message-ID: <bench-%d-%d@example.test>\r\n"
           "Date: Sun, 6 Dec 2026 10:%02d:%02d +0000\r\n"
           "From: Sender %d <sender%d@example.test>\r\n"
           "To: Project list <projects@example.test>\r\n"
           "Subject: relay bench message %d of %d: status of work package %d\r\n"
           "List-Id: Projects <projects.example.test>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "X-Padding: %s\r\n\r\n"
           % (i % 7, i % 3, i % 3, i % 250, i * 2654435761 % (1 << 32), i // 60 % 60, i % 60,
              i, n, i // 60 % 60, i % 60, i % 50, i % 50, i, n, i % 40, "x" * 600))
    return (hdr + "Body of message %d.\r\n" % i * 12).encode()


def fill(host, port, user, password, mailbox, n):
    """mailbox holds exactly the n bench messages afterwards (made once)."""
    m = imaplib.IMAP4(host, port, timeout=120)
    try:
        m.login(user, password)
        m.create(mailbox)
        typ, data = m.select(mailbox)
        if typ != "OK":
            raise pc.PerfError("SELECT %s at %s: %r" % (mailbox, host, data))
        if int(data[0]) != n:
            if int(data[0]):
                m.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                m.expunge()
            t0 = time.monotonic()
            for i in range(n):
                m.append(mailbox, None, None, message(i, n))
            pc.log("%s at %s: %d messages appended in %.1f s" % (mailbox, host, n,
                                                                 time.monotonic() - t0))
    finally:
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def remove(host, port, user, password, mailbox):
    try:
        m = imaplib.IMAP4(host, port, timeout=60)
        m.login(user, password)
        m.delete(mailbox)
        m.logout()
    except (imaplib.IMAP4.error, OSError) as e:
        pc.log("cleanup: DELETE %s at %s: %s" % (mailbox, host, e))


def command(c, tag, text):
    untagged, tagged = c.command(tag, text)
    if not tagged.startswith(tag.encode() + b" OK"):
        raise pc.PerfError("%s: %r" % (text, tagged))
    return untagged


def one_session(case, env, user, password, n):
    """One session of `case`; returns its figures."""
    lab = {"direct": (env["HOME2_ADDR"], int(env["HOME_PORT"]), int(env["HOME2_PID"]),
                      BENCH_REMOTE),
           "relay": (env["FRONT_ADDR"], int(env["FRONT_PORT"]), int(env["FRONT_PID"]),
                     BENCH_REMOTE),
           "local": (env["FRONT_ADDR"], int(env["FRONT_PORT"]), int(env["FRONT_PID"]),
                     BENCH_LOCAL)}
    host, port, master, mailbox = lab[case]
    home2 = int(env["HOME2_PID"])
    wait_no_imap(int(env["FRONT_PID"]), home2)
    c = ImapClient.connect(host, port, timeout=120)
    try:
        command(c, "a", "LOGIN %s %s" % (user, password))
        pids = imap_pids(master)
        if len(pids) != 1:
            raise pc.PerfError("%s: expected one imap process, found %s" % (case, pids))
        pid = pids[0]
        rss_login = status_kb(pid, "VmRSS")
        t0 = time.perf_counter()
        untagged = command(c, "s", "SELECT %s" % mailbox)
        t_select = time.perf_counter()
        rss_select = status_kb(pid, "VmRSS")
        fetch = "FETCH 1:%d (UID RFC822.SIZE BODY.PEEK[HEADER])" % n
        lines = command(c, "f", fetch)
        t_fetch = time.perf_counter()
        if sum(1 for l in lines if b" FETCH " in l) != n:
            raise pc.PerfError("%s: %d FETCH lines, wanted %d" % (case, len(lines), n))
        exists = [int(l.split()[1]) for l in untagged if l.endswith(b" EXISTS")]
        if exists != [n]:
            raise pc.PerfError("%s: SELECT said %r, wanted %d" % (case, exists, n))
        t1 = time.perf_counter()
        command(c, "g", fetch)
        t_again = time.perf_counter()
        out = {"select_ms": (t_select - t0) * 1000.0, "first_ms": (t_fetch - t0) * 1000.0,
               "again_ms": (t_again - t1) * 1000.0, "cpu_ms": cpu_ms(pid),
               "rss_login_kb": rss_login, "rss_select_kb": rss_select,
               "rss_fetch_kb": status_kb(pid, "VmRSS"), "hwm_kb": status_kb(pid, "VmHWM")}
        if case == "relay":
            owner = imap_pids(home2)
            out["owner_processes"] = len(owner)
            out["owner_cpu_ms"] = sum(cpu_ms(p) for p in owner)
        command(c, "z", "LOGOUT")
    finally:
        c.close()
    return out


def run(args):
    env = pc.read_lab_env(args.env)
    user, password = env["LOCAL_USER"], env["LOCAL_PASS"]
    n = args.messages
    rounds = 3 if args.quick else args.rounds
    settings = env["REFERRAL_SETTINGS"]
    with open(settings, "r", encoding="utf-8") as f:
        original = f.read()
    if "mailbox_relay" in original or "mailbox_referral_mode" in original:
        raise pc.PerfError("%s already sets the relay's keys" % settings)
    home = (env["HOME2_ADDR"], int(env["HOME_PORT"]))
    front = (env["FRONT_ADDR"], int(env["FRONT_PORT"]))
    results = {"machine": pc.machine_note(), "messages": n, "rounds": rounds,
               "cases": {"direct": [], "relay": [], "local": []}}
    try:
        with open(settings, "a", encoding="utf-8") as f:
            f.write("\n# bench_relay.py\nmailbox_referral_mode = opt-in\nmailbox_relay = yes\n"
                    "mailbox_relay_master_user = %s\nmailbox_relay_master_password = %s\n"
                    % (env["RELAY_MASTER_USER"], env["RELAY_MASTER_PASS"]))
        fill(home[0], home[1], user, password, BENCH_REMOTE, n)
        fill(front[0], front[1], user, password, BENCH_LOCAL, n)
        order = ["direct", "relay", "local"]
        for case in order:  # warm the page cache and Dovecot's own indexes, untimed
            one_session(case, env, user, password, n)
        for r in range(rounds):
            for case in order[r % 3:] + order[:r % 3]:
                s = one_session(case, env, user, password, n)
                results["cases"][case].append(s)
                pc.log("round %d %-6s first %.1f ms again %.1f ms cpu %.0f ms rss %d kB%s"
                       % (r, case, s["first_ms"], s["again_ms"], s["cpu_ms"], s["rss_fetch_kb"],
                          " owner cpu %.0f ms (%d processes)" % (s["owner_cpu_ms"],
                                                                 s["owner_processes"])
                          if case == "relay" else ""))
    finally:
        with open(settings, "w", encoding="utf-8") as f:
            f.write(original)
        remove(home[0], home[1], user, password, BENCH_REMOTE)
        remove(front[0], front[1], user, password, BENCH_LOCAL)
    results["load_after"] = " ".join(pc.load_average())
    return pc.publish(args, results, report)


def p(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


def report(res):
    cases = res["cases"]
    n = res["messages"]
    what = {"direct": "direct at the owner (home2)", "relay": "relayed by the front",
            "local": "local mailbox on the front"}
    rows = []
    for case, v in cases.items():
        if not v:
            continue
        first = [x["first_ms"] for x in v]
        rows.append([what[case], "%.1f" % p(first, 0.5), "%.1f" % p(first, 0.9),
                     "%.1f" % p([x["select_ms"] for x in v], 0.5),
                     "%.1f" % p([x["again_ms"] for x in v], 0.5),
                     "%.1f" % p([x["again_ms"] for x in v], 0.9)])
    out = ["Mailbox relay: SELECT + FETCH 1:%d (UID RFC822.SIZE BODY.PEEK[HEADER]), one new "
           "session per case and round, %d rounds interleaved; %s; load average after the run "
           "%s\n" % (n, res["rounds"], res["machine"], res["load_after"]),
           pc.table(["case", "SELECT+FETCH p50 ms", "p90 ms", "of which SELECT p50 ms",
                     "FETCH again p50 ms", "p90 ms"], rows), ""]
    base = p([x["first_ms"] for x in cases["direct"]], 0.5)
    out.append("relay / direct at p50: %.2f×\n"
               % (p([x["first_ms"] for x in cases["relay"]], 0.5) / base))
    mrows = []
    for case, v in cases.items():
        if not v:
            continue
        mrows.append([what[case], "%.0f" % p([x["cpu_ms"] for x in v], 0.5),
                      "%.0f" % p([x.get("owner_cpu_ms", 0) for x in v], 0.5)
                      if case == "relay" else "-",
                      "%d" % p([x["rss_login_kb"] for x in v], 0.5),
                      "%d" % p([x["rss_select_kb"] for x in v], 0.5),
                      "%d" % p([x["rss_fetch_kb"] for x in v], 0.5),
                      "%d" % p([x["rss_fetch_kb"] - x["rss_select_kb"] for x in v], 0.5),
                      "%d" % p([x["hwm_kb"] for x in v], 0.5)])
    owners = ", ".join(sorted({str(x["owner_processes"]) for x in cases["relay"]}))
    out += ["Per session (median over the rounds): the session's imap process (front for "
            "relay and local, home2 for direct); owner CPU = every imap process home2 ran for "
            "the relayed session (%s processes)\n" % owners,
            pc.table(["case", "imap CPU ms", "owner CPU ms", "RSS after LOGIN kB",
                      "after SELECT kB", "after 2 FETCHes kB", "FETCH added kB", "VmHWM kB"],
                     mrows), ""]
    return "\n".join(out) + "\n"


def options(ap):
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--messages", type=int, default=1000)


def main(argv=None):
    return pc.script_main(run, argv, build_dir=False, add_arguments=options)


if __name__ == "__main__":
    sys.exit(main())
