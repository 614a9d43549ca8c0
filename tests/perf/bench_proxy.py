#!/usr/bin/env python3
"""Benchmark 2 (issue 6): referral vs proxy.

One client downloads all of alice's mail (N messages of about 1 MB, written
into her Maildir on home1) in two ways:
  referral  LOGIN on the front's direct listener -> NO [REFERRAL imap://...]
            -> the client connects to home1 itself and downloads there;
  proxy     LOGIN on the front's main listener -> Dovecot's proxy on the
            front relays the whole download from home1.
Measured: the front's CPU seconds (sum of utime+stime of every process of
the front's process group, including children the master reaped, from
/proc before and after), the bytes that passed through the front (what the
client exchanged with it) and the download's wall time.

    bench_proxy.py --env LAB_ENV --work DIR [--quick] [--json OUT]
"""
import argparse
import json
import os
import re
import socket
import sys
import time

import perf_common as pc
import perf_data

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


def via_referral(env, password):
    front = Conn(env["FRONT_ADDR"], env["FRONT_DIRECT_PORT"])
    reply = front.command("a", "LOGIN %s %s" % (USER, password))
    front.sock.close()
    m = re.search(rb"\[REFERRAL imap://[^@\]]*@([^:/\]]+):?(\d*)/\]", reply)
    if not m:
        raise pc.PerfError("no login referral from the front's direct listener: %r" % reply)
    host, port = m.group(1).decode(), int(m.group(2) or 143)
    home, msgs, body = session_download(host, port, password)
    return front.sent + front.received, msgs, body, reply.decode()


def via_proxy(env, password):
    c, msgs, body = session_download(env["FRONT_ADDR"], env["FRONT_PORT"], password)
    return c.sent + c.received, msgs, body, "proxied"


def run(args):
    env = pc.read_lab_env(args.env)
    password = env["HOME1_PASS"] if env["HOME1_USER"] == USER else "pw-" + USER
    count = 20 if args.quick else args.messages
    size = args.message_size
    maildir = os.path.join(env["LAB_DIR"], "home1", "mail", USER, "Maildir")
    total = perf_data.make_big_mail(maildir, count, size)
    pc.log("bench proxy: %d messages, %.1f MB written to %s" % (count, total / 1e6, maildir))
    # Warm-up directly at home1: index files built, messages in the page cache.
    session_download(env["HOME1_ADDR"], env["HOME1_PORT"], password)
    front_pid = int(env["FRONT_PID"])
    rows = {"referral": [], "proxy": []}
    rounds = 1 if args.quick else args.rounds
    for r in range(rounds):
        for way, fn in (("referral", via_referral), ("proxy", via_proxy)):
            cpu0 = pc.group_cpu_seconds(front_pid)
            t0 = time.monotonic()
            front_bytes, msgs, body, note = fn(env, password)
            wall = time.monotonic() - t0
            time.sleep(0.3)  # let the master reap the session's processes
            cpu = pc.group_cpu_seconds(front_pid) - cpu0
            rows[way].append({"cpu_s": cpu, "front_bytes": front_bytes, "messages": msgs,
                              "body_bytes": body, "wall_s": wall, "note": note})
            pc.log("round %d %-8s front CPU %.3f s, bytes via front %d, %d messages %.1f MB "
                   "in %.2f s" % (r, way, cpu, front_bytes, msgs, body / 1e6, wall))
    results = {"rows": rows, "messages": count, "bytes": total, "machine": pc.machine_note(),
               "rounds": rounds}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    print(report(results))
    return results


def report(results):
    rows = results["rows"]
    ref_cpu = pc.med([r["cpu_s"] for r in rows["referral"]])
    prx_cpu = pc.med([r["cpu_s"] for r in rows["proxy"]])
    out = []
    for way in ("referral", "proxy"):
        rs = rows[way]
        out.append([way, pc.mmm([r["cpu_s"] for r in rs], "%.3f"),
                    pc.mmm([r["front_bytes"] for r in rs], "%d"),
                    "%d / %.1f MB" % (rs[0]["messages"], rs[0]["body_bytes"] / 1e6),
                    pc.mmm([r["wall_s"] for r in rs], "%.2f")])
    ratio = ("%.2f%%" % (100.0 * ref_cpu / prx_cpu)) if prx_cpu else "n/a"
    return (pc.table(["way", "front CPU s", "bytes through the front", "downloaded",
                      "wall s"], out) +
            "\n\nreferral / proxy front-end CPU: %s (median of %d rounds)\n"
            % (ratio, results["rounds"]))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--message-size", type=int, default=1 << 20)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
