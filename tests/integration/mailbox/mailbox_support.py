"""Helpers of the mailbox referral tests (RFC 2193; plugin/imap).  Not a test.

The tests run against the ctest lab fixture (DREF_LAB_ENV -> lab.env): the
front serves carol (LOCAL_USER, mailHost = the front) and dave (UNLISTED_USER,
not in the directory) locally, with the imap plugin loaded.  The directory
lists the shared remote mailboxes Shared/Projects and Shared/Büro on home2
(visible to everyone) and carol's personal Archive/2019 on home1 (visible to
carol only), plus hostile entries that must never reach the wire.
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lab"))

from imap_client import ImapClient, Literal, quote  # noqa: E402,F401
from lab_logs import LabLogs  # noqa: E402
from lab_dovecot import mutf7_encode  # noqa: E402,F401
# "NO Mailbox doesn't exist: " (2.3) / "NO [NONEXISTENT] Mailbox doesn't exist: " (2.4)
from dovecot_version import NO_SUCH_MAILBOX  # noqa: E402,F401
from dovecot_processes import children  # noqa: E402

# conf.d/dovecot-referral.conf.ext default mailbox_referral_text.  Dovecot
# puts its command timing before the final '.' of every tagged line.
REFERRAL_TEXT = b"Remote mailbox"
TIMING = rb" \(\d+\.\d{3} \+ \d+\.\d{3}(?: \+ \d+\.\d{3})? secs\)\.$"
BUERO = "Shared/B\u00fcro"            # SHARED_MAILBOX_UTF8
BUERO_WIRE = b"Shared/B&APw-ro"       # the same name in modified UTF-7


def read_env(path):
    env = {}
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            if key.startswith("export "):
                key = key[len("export "):]
            parts = shlex.split(value)
            env[key] = parts[0] if parts else ""
    return env


class Lab(LabLogs):
    def __init__(self):
        path = os.environ.get("DREF_LAB_ENV")
        if not path or not os.path.exists(path):
            raise RuntimeError("DREF_LAB_ENV (%r) missing: run through ctest (fixture lab)" % path)
        self.env = read_env(path)
        e = self.env
        self.front = e["FRONT_ADDR"]
        self.port = int(e["FRONT_PORT"])
        self.home1 = e["HOME1_ADDR"]
        self.home2 = e["HOME2_ADDR"]
        self.home_port = int(e["HOME_PORT"])

    def user(self, role):
        return self.env[role + "_USER"], self.env[role + "_PASS"]

    def connect(self, host=None, port=None, timeout=15.0):
        sock = socket.create_connection((host or self.front, port or self.port), timeout=timeout)
        c = ImapClient(sock, timeout)
        c.greeting = c.read_line()
        return c

    def session(self, role="LOCAL", tag="l1"):
        """A logged-in front session of a locally served user; returns
        (client, tagged login line)."""
        user, password = self.user(role)
        c = self.connect()
        _, tagged = c.login(tag, user, password)
        if not tagged.startswith(tag.encode() + b" OK"):
            c.close()
            raise AssertionError("login of %s on the front failed: %r" % (user, tagged))
        return c, tagged

    def url(self, user, host, mailbox_utf8):
        """The exact referral URL the plugin must build (RFC 5092, D-12)."""
        port = "" if self.home_port == 143 else ":%d" % self.home_port
        enc = urllib.parse.quote(mailbox_utf8.encode("utf-8"), safe="/!$'()*+,&=:@-._~")
        return ("imap://%s;AUTH=*@%s%s/%s" % (user, host, port, enc)).encode()



def referral_rx(tag, *urls):
    """The exact tagged referral line, timing aside (R2193-4, R2193-5)."""
    body = tag.encode() + b" NO [REFERRAL " + b" ".join(urls) + b"] " + REFERRAL_TEXT
    return re.compile(re.escape(body) + TIMING)


def assert_referral(testcase, tagged, tag, *urls):
    testcase.assertRegex(tagged, referral_rx(tag, *urls))


def referring_session(testcase, lab, tag, url):
    """A front session of the LOCAL user whose SELECT Shared/Projects must
    be referred to `url` (the directory answered: the service, where it is
    on, has started); closed after."""
    c, _ = lab.session()
    try:
        _, tagged = c.command(tag, "SELECT Shared/Projects")
        assert_referral(testcase, tagged, tag, url)
    finally:
        c.close()


def service_pids(lab):
    """Pids of the front's referral-directory service processes (the
    program name as /proc shows it: cut to 15 bytes)."""
    return children(int(lab.env["FRONT_PID"]), "referral-direc")


def kill_service(testcase, lab):
    """SIGKILL to the front's running referral-directory service (if any),
    back once those processes are gone: the next connection to its socket
    makes master start a fresh one, with an empty cache.  Only the killed
    pids must go: master may already have started a new service for a
    session that asked meanwhile."""
    killed = service_pids(lab)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while set(killed) & set(service_pids(lab)) and time.monotonic() < deadline:
        time.sleep(0.05)
    testcase.assertEqual(set(killed) & set(service_pids(lab)), set(),
                         "the killed service is still there")


def assert_clean_wire(testcase, lines):
    """Nothing a hostile directory entry carries ever reaches the client."""
    for line in lines:
        testcase.assertNotIn(b"\r", line)
        testcase.assertNotIn(b"\n", line)
        testcase.assertNotIn(b"\0", line)
        for bad in (b"evil", b"Evil", b"HostileURL", b"BYE injected", b"LLLLLLLL"):
            testcase.assertNotIn(bad, line)


def select_inbox_works(testcase, c, tag):
    """R2193-20: the home connection stays usable after a referral."""
    untagged, tagged = c.command(tag, "SELECT INBOX")
    testcase.assertTrue(tagged.startswith(tag.encode() + b" OK [READ-WRITE] Select completed"),
                        tagged)
    return untagged


def append_own_message(testcase, c, tag, message):
    """APPENDs a message to INBOX and selects INBOX; returns its UID.  Tests
    remove only this message again (remove_own_message): the lab's own
    messages stay for the tests and the demo that read them."""
    _, tagged = c.command(tag, ["APPEND INBOX ", Literal(message, plus=True)])
    m = re.match(rb"^\S+ OK \[APPENDUID \d+ (\d+)\]", tagged)
    testcase.assertIsNotNone(m, tagged)
    select_inbox_works(testcase, c, tag + "s")
    return int(m.group(1))


def remove_own_message(c, tag, uid):
    c.command(tag, "UID STORE %d +FLAGS.SILENT (\\Deleted)" % uid)
    c.command(tag + "x", "UID EXPUNGE %d" % uid)


def list_names(untagged, kind=b"LIST"):
    """Mailbox names (wire form) of * LIST / * LSUB lines."""
    names = []
    rx = re.compile(rb'^\* ' + kind + rb' \(([^)]*)\) "(.)" (.*)$')
    for line in untagged:
        m = rx.match(line)
        if m:
            name = m.group(3)
            if name.startswith(b'"') and name.endswith(b'"'):
                name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
            names.append((name, m.group(1)))
    return names


def ldap_tool(lab, tool, stdin=None, args=()):
    """Runs ldapadd/ldapmodify/ldapdelete against the lab's slapd as its
    admin; (exit status, output)."""
    e = lab.env
    p = subprocess.run([tool, "-x", "-H", e["LDAP_URI"], "-D", e["LDAP_ADMIN_DN"],
                        "-w", e["LDAP_ADMIN_PW"]] + list(args), input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def remote_names(testcase, c, tag, pattern="Shared/*"):
    """The names RLIST "" <pattern> reports as remote (no flags)."""
    untagged, tagged = c.command(tag, 'RLIST "" "%s"' % pattern)
    testcase.assertTrue(tagged.startswith(tag.encode() + b" OK"), tagged)
    return [n for n, f in list_names(untagged) if f == b""]


def mailbox_cache_path(lab, user):
    """The front's mailbox_cache_dir file of `user`: FNV-1a 64 of the name
    in hex + ".mailboxes" (plugin/core/mailbox_cache/remote_mailbox_cache_file.h)."""
    h = 0xcbf29ce484222325
    for b in user.encode("utf-8"):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return os.path.join(lab.env["MAILBOX_CACHE_DIR"], "%016x.mailboxes" % h)


def clear_mailbox_cache(lab):
    """Removes every file of the front's mailbox_cache_dir, so that the next
    session asks the directory (tests that pause slapd or edit entries)."""
    d = lab.env.get("MAILBOX_CACHE_DIR")
    if not d or not os.path.isdir(d):
        return
    for name in os.listdir(d):
        try:
            os.unlink(os.path.join(d, name))
        except FileNotFoundError:
            pass


def replace_file(path, data):
    """Replaces a file atomically (the lab's settings file: a new imap
    process must read either the old or the new one, never a half)."""
    tmp = path + ".imap-test.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
