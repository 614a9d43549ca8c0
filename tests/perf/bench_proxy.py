#!/usr/bin/env python3
"""Benchmark 2 (issue 6): referral vs proxy.

One client downloads all of alice's mail (N messages of about 1 MB, written
into her Maildir on home1) in two ways, through an "ours" bench front
(tests/perf/perf_fronts.py) in each login mode:
  referral  LOGIN on the front's direct listener -> NO [REFERRAL imap://...]
            -> the client connects to home1 itself and downloads there;
  proxy     LOGIN on the front's main listener -> Dovecot's proxy on the
            front relays the whole download from home1.
Measured: the front's CPU seconds (utime+stime of every process of the
front's process group, including children the master reaped, from /proc
before and after), the bytes that passed through the front (what the client
exchanged with it) and the wall time.  /proc counts CPU in 10 ms ticks, so
the CPU of one referral is the mean over --referrals referral logins.

    bench_proxy.py --env LAB_ENV --work DIR --build-dir B [--quick] [--json OUT]
"""
import os
import re
import socket
import sys
import time

import perf_common as pc
import perf_data
from perf_fronts import BenchFront

USER = "alice"


class Conn:
    """Just enough IMAP for a bulk download, counting bytes both ways."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.buf = bytearray()
        self.received = 0
        self.sent = 0
        self.greeting = self.line()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise pc.PerfError("connection closed")
        self.received += len(data)
        self.buf += data

    def line(self):
        while True:
            idx = self.buf.find(b"\r\n")
            if idx >= 0:
                break
            self._fill()
        line = bytes(self.buf[:idx])
        del self.buf[:idx + 2]
        return line

    def send(self, text):
        data = text.encode() + b"\r\n"
        self.sent += len(data)
        self.sock.sendall(data)

    def command(self, tag, text):
        self.send("%s %s" % (tag, text))
        while True:
            line = self.line()
            if line.startswith(tag.encode() + b" "):
                return line

    def download(self, tag="f"):
        """FETCH 1:* BODY.PEEK[]: reads until the tagged reply; literals are
        skipped by their announced length.  Returns (messages, literal bytes)."""
        self.send("%s FETCH 1:* BODY.PEEK[]" % tag)
        messages = body = 0
        lit = re.compile(rb"\{(\d+)\}$")
        while True:
            line = self.line()
            if line.startswith(tag.encode() + b" "):
                if not line.startswith(tag.encode() + b" OK"):
                    raise pc.PerfError("FETCH failed: %r" % line)
                return messages, body
            m = lit.search(line)
            if m:
                n = int(m.group(1))
                while len(self.buf) < n:
                    self._fill()
                del self.buf[:n]
                messages += 1
                body += n

    def close(self):
        try:
            self.command("z", "LOGOUT")
        except (OSError, pc.PerfError):
            pass
        self.sock.close()


def session_download(host, port, password):
    c = Conn(host, port)
    t = c.command("a", "LOGIN %s %s" % (USER, password))
    if not t.startswith(b"a OK"):
        raise pc.PerfError("LOGIN at %s:%s: %r" % (host, port, t))
    sel = c.command("s", "SELECT INBOX")
    if not sel.startswith(b"s OK"):
        raise pc.PerfError("SELECT: %r" % sel)
    msgs, body = c.download()
    c.close()
    return c, msgs, body


def via_referral(front, password):
    c = Conn(front.addr, front.direct_port)
    reply = c.command("a", "LOGIN %s %s" % (USER, password))
    c.sock.close()
    m = re.search(rb"\[REFERRAL imap://[^@\]]*@([^:/\]]+):?(\d*)/\]", reply)
    if not m:
        raise pc.PerfError("no login referral from the front's direct listener: %r" % reply)
    host, port = m.group(1).decode(), int(m.group(2) or 143)
    session_download(host, port, password)
    return c.sent + c.received


def via_proxy(front, password):
    c, msgs, body = session_download(front.addr, front.port, password)
    return c.sent + c.received, msgs, body


def run(args):
    env = pc.read_lab_env(args.env)
    loadgen = pc.find_loadgen(args.build_dir)
    password = "pw-" + USER
    count = 20 if args.quick else args.messages
    maildir = os.path.join(env["LAB_DIR"], "home1", "mail", USER, "Maildir")
    total = perf_data.make_big_mail(maildir, count, args.message_size)
    pc.log("bench proxy: %d messages, %.1f MB written to %s" % (count, total / 1e6, maildir))
    # Warm-up directly at home1: index files built, messages in the page cache.
    _, msgs, body = session_download(env["HOME1_ADDR"], env["HOME1_PORT"], password)
    rounds = 1 if args.quick else args.rounds
    results = {"messages": msgs, "bytes": body, "machine": pc.machine_note(), "rounds": rounds,
               "modes": {}}
    for i, mode in enumerate(("sc1", "sc0")):
        front = BenchFront("proxy-" + mode, args.work, "127.0.0.%d" % (args.addr_base + 12 + i),
                           "ours", mode, env, [perf_data.passwd_line(USER)])
        rows = {"referral_login": [], "referral": [], "proxy": []}
        try:
            front.start()
            for r in range(rounds):
                # CPU of one referral: the mean over many (the /proc clock ticks
                # at 10 ms, far coarser than one referral in sc0 mode).
                cpu0 = pc.group_cpu_seconds(front.pid)
                lg = pc.run_loadgen(loadgen, front.addr, front.direct_port, user=USER,
                                    password=password, count=args.referrals, concurrency=4,
                                    expect="referral")
                time.sleep(0.3)  # let the master reap the login processes
                per = (pc.group_cpu_seconds(front.pid) - cpu0) / max(lg["sessions"], 1)
                rows["referral_login"].append({"cpu_s": per, "unexpected": lg["unexpected"]})
                t0 = time.monotonic()
                front_bytes = via_referral(front, password)
                rows["referral"].append({"front_bytes": front_bytes,
                                         "wall_s": time.monotonic() - t0})
                cpu0 = pc.group_cpu_seconds(front.pid)
                t0 = time.monotonic()
                front_bytes, msgs, body = via_proxy(front, password)
                wall = time.monotonic() - t0
                time.sleep(0.3)
                cpu = pc.group_cpu_seconds(front.pid) - cpu0
                rows["proxy"].append({"cpu_s": cpu, "front_bytes": front_bytes, "wall_s": wall,
                                      "messages": msgs, "body_bytes": body})
                pc.log("%s round %d: referral front CPU %.4f s/login (%d logins), %d bytes via "
                       "front, download %.2f s | proxy front CPU %.3f s, %d bytes via front, "
                       "%.2f s" % (mode, r, per, lg["sessions"], rows["referral"][-1]["front_bytes"],
                                   rows["referral"][-1]["wall_s"], cpu, front_bytes, wall))
        finally:
            front.stop()
        results["modes"][mode] = rows
    return pc.publish(args, results, report)


def report(results):
    out = ["Download of %d messages, %.1f MB, by one client; median (min–max) of %d rounds.\n"
           % (results["messages"], results["bytes"] / 1e6, results["rounds"])]
    rows = []
    for mode, r in results["modes"].items():
        ref = pc.med([x["cpu_s"] for x in r["referral_login"]])
        prx = pc.med([x["cpu_s"] for x in r["proxy"]])
        rows.append([mode, "referral", pc.mmm([x["cpu_s"] for x in r["referral_login"]], "%.4f"),
                     pc.mmm([x["front_bytes"] for x in r["referral"]], "%d"),
                     pc.mmm([x["wall_s"] for x in r["referral"]], "%.2f"),
                     "%.2f%%" % (100.0 * ref / prx) if prx else "n/a"])
        rows.append([mode, "proxy", pc.mmm([x["cpu_s"] for x in r["proxy"]], "%.3f"),
                     pc.mmm([x["front_bytes"] for x in r["proxy"]], "%d"),
                     pc.mmm([x["wall_s"] for x in r["proxy"]], "%.2f"), "100%"])
    out.append(pc.table(["login mode", "way", "front CPU s", "bytes through the front",
                         "wall s (login + download)", "front CPU vs proxy"], rows))
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = pc.argument_parser(build_dir=True)
    ap.add_argument("--referrals", type=int, default=200,
                    help="referral logins averaged for the CPU of one")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--message-size", type=int, default=1 << 20)
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
