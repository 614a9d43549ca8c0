"""Shared helpers of the login referral tests (passdb referral; not a test).

- Lab: the ctest lab fixture's environment (lab.env) plus connections that
  come from a chosen loopback source address.  Dovecot's auth penalty and
  failure delay are per client IP, so every test that must measure time
  uses a source address of its own (127.0.1.x; all of 127/8 is loopback).
- exact expected lines for referrals and failures.

The tests sit in one folder per concern below this directory and import this
module from here: ctest puts this directory on PYTHONPATH (CMakeLists.txt);
by hand, `PYTHONPATH=tests/integration/login python3 tests/integration/login/
passdb/test_referral_login.py` (with the lab's DREF_LAB_ENV, as ctest sets it).
"""
import os
import re
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lab"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))

from imap_client import ImapClient, ImapError, quote  # noqa: E402,F401
from lab_logs import LabLogs  # noqa: E402

# Dovecot's fixed texts (login-common), as the client sees them.
AUTH_FAILED = b"NO [AUTHENTICATIONFAILED] Authentication failed."
# plugin/core/passdb_answer/passdb_reply.cpp kRejectText: a user whose home
# server is missing or unusable (D-17).
REJECT = b"NO [CONTACTADMIN] Your mailbox cannot be reached from this server."
# conf.d/dovecot-referral.conf.ext default referral_text.
DEFAULT_REFERRAL_TEXT = b"Your mailbox is on another server."


def build_dir():
    return os.path.abspath(os.environ.get("DREF_BUILD_DIR") or os.path.join(SOURCE_DIR, "build"))


def work_dir(name):
    """A fresh directory below <build>/referral-tests for one private server
    (world-searchable: the mail processes run as an unprivileged uid)."""
    import tempfile
    base = os.path.join(build_dir(), "referral-tests")
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o755)
    d = tempfile.mkdtemp(prefix=name + "-", dir=base)
    os.chmod(d, 0o755)
    return d


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
            import shlex
            parts = shlex.split(value)
            env[key] = parts[0] if parts else ""
    return env


def fresh_source():
    """A random loopback source address (all of 127/8 is loopback on
    Linux).  Dovecot's anvil remembers auth penalties per IP across test
    runs; 16 million addresses keep one test's failures away from another."""
    import random
    r = random.SystemRandom()
    return "127.%d.%d.%d" % (r.randrange(64, 255), r.randrange(1, 255), r.randrange(1, 255))


class Lab(LabLogs):
    def __init__(self):
        path = os.environ.get("DREF_LAB_ENV")
        if not path or not os.path.exists(path):
            raise RuntimeError("DREF_LAB_ENV (%r) missing: run through ctest (fixture lab)" % path)
        self.env = read_env(path)
        e = self.env
        self.front = e["FRONT_ADDR"]
        self.port = int(e["FRONT_PORT"])          # default listener: proxy policy
        self.direct = int(e["FRONT_DIRECT_PORT"])  # listener_rule refer
        self.home1 = e["HOME1_ADDR"]
        self.home2 = e["HOME2_ADDR"]
        self.home_port = int(e["HOME_PORT"])

    def user(self, role):
        return self.env[role + "_USER"], self.env[role + "_PASS"]

    def connect(self, port=None, source=None, timeout=15.0):
        sock = socket.create_connection((self.front, port or self.port), timeout=timeout,
                                        source_address=(source or fresh_source(), 0))
        c = ImapClient(sock, timeout)
        c.greeting = c.read_line()
        return c

    def referral(self, tag, user, host, port, text=DEFAULT_REFERRAL_TEXT):
        """The exact tagged referral line (RFC 2221 §4.1, D-3: ;AUTH=*)."""
        url = b"imap://%s;AUTH=*@%s%s/" % (user.encode(), host.encode(),
                                           b"" if port == 143 else b":%d" % port)
        return tag.encode() + b" NO [REFERRAL " + url + b"] " + text


def login(c, tag, user, password):
    """(untagged, tagged, seconds)."""
    t0 = time.monotonic()
    untagged, tagged = c.login(tag, user, password)
    return untagged, tagged, time.monotonic() - t0


def login_and_read_inbox(c, tag, user, password):
    """LOGIN, then the subject of INBOX's first message (every lab server's
    welcome message names the server): (tagged, subject or None, seconds of
    the LOGIN).  A connection the server drops gives the tagged line b""."""
    t0 = time.monotonic()
    try:
        _, tagged, _ = login(c, tag, user, password)
    except (OSError, ImapError):
        return b"", None, time.monotonic() - t0
    secs = time.monotonic() - t0
    if not tagged.startswith(tag.encode() + b" OK"):
        return tagged, None, secs
    return tagged, inbox_subject(c), secs


def inbox_subject(c):
    """SELECT INBOX on a logged-in connection, then the subject of its first
    message (every lab server's welcome message names the server), or None."""
    _, sel = c.command("s1", "SELECT INBOX")
    assert sel.startswith(b"s1 OK"), sel
    untagged, fetched = c.command("f1", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert fetched.startswith(b"f1 OK"), fetched
    m = re.search(rb"Subject: ([^\r\n]*)", b"\n".join(untagged))
    return m.group(1).decode() if m else None


def send_id(c, tag, name):
    untagged, tagged = c.command(tag, b'ID ("name" ' + quote(name) + b' "version" "1.0")')
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    return untagged


def assert_local_login(tagged, tag):
    """Dovecot's login OK: with [CAPABILITY ...] unless the client already
    asked for CAPABILITY before logging in."""
    t = tag.encode()
    assert tagged == t + b" OK Logged in" or (
        tagged.startswith(t + b" OK [CAPABILITY ") and tagged.endswith(b"] Logged in")), tagged


def ldif_value(attr, value):
    """One LDIF attribute line; base64 (attr:: ...) for a value with
    controls, 8-bit octets or a leading space, colon or '<'."""
    import base64
    if all(0x20 <= ord(c) < 0x7f for c in value) and not value.startswith((" ", ":", "<")):
        return "%s: %s\n" % (attr, value)
    return "%s:: %s\n" % (attr, base64.b64encode(value.encode("latin-1")).decode("ascii"))


def private_dovecot(cleanups, name, addr, port, users, trusted, include="", listeners="",
                    d=None, passwd_extra=None, services="", edit_conf=None):
    """Starts a private Dovecot (the lab's template) for one test class and
    appends its stop to cleanups (its directory goes too, unless
    DREF_KEEP_TEST_DIRS).  users: [(name, password)]; passwd_extra: user ->
    extra fields of its passwd-file line; edit_conf: called with the path of
    the rendered dovecot.conf before the start."""
    import shutil
    import lab_dovecot
    d = d or work_dir(name)
    inst = lab_dovecot.DovecotInstance(name, d, addr, port, users)
    inst.prepare(trusted=trusted, include=include, listeners=listeners, services=services)
    if edit_conf is not None:
        edit_conf(inst.conf)
    if passwd_extra:
        with open(os.path.join(d, "passwd"), "w", encoding="utf-8") as f:
            for user, password in users:
                f.write("%s:{PLAIN}%s::::::%s\n" % (user, password, passwd_extra[user]))
    inst.finish_prepare()

    def stop():
        left = inst.stop()
        if not left and not os.environ.get("DREF_KEEP_TEST_DIRS"):
            shutil.rmtree(d, ignore_errors=True)
        return left
    cleanups.append(stop)
    inst.start()
    return inst


def without_template_passdb(conf_path):
    """Takes the lab template's passwd-file passdb out of a rendered
    dovecot.conf: passdb referral (password mode) is the only passdb."""
    with open(conf_path, "r", encoding="utf-8") as f:
        text = f.read()
    new, n = re.subn(r"passdb (passwd-file )?\{\n  driver = passwd-file\n.*?\n\}\n", "", text,
                     count=1, flags=re.S)
    assert n == 1, "template passdb not found in %s" % conf_path
    with open(conf_path, "w", encoding="utf-8") as f:
        f.write(new)


def first_login_answer(addr, port, tag, user, password, timeout=15.0):
    """The tagged answer to LOGIN on the first connection a Dovecot accepts
    within `timeout` (b"" when the connection broke: its auth process is
    gone), for a Dovecot that may refuse to work."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            sock = socket.create_connection((addr, port), timeout=15,
                                            source_address=(fresh_source(), 0))
            c = ImapClient(sock, 15)
            c.greeting = c.read_line()
        except (OSError, ImapError):
            time.sleep(0.2)
            continue
        try:
            return c.login(tag, user, password, timeout=20)[1]
        except (OSError, ImapError):  # reset or EOF
            return b""
        finally:
            c.close()
    return b""


def wait_log(path, pattern, timeout=15.0):
    """The text of the log at `path` once `pattern` is in it (AssertionError
    with its tail when it is not within `timeout`)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        try:
            with open(path, "r", encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            text = ""
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    raise AssertionError("%r not in %s:\n%s" % (pattern, path, text[-3000:]))


def private_front_settings(directory, slapd_uri, front_addr, allowed_hosts, extra=""):
    """Writes <directory>/dovecot-referral.conf.ext for a private front that
    proxies every user (default_policy proxy) found below
    ou=people,dc=example,dc=test of a private slapd (its rootdn bind), with
    short caches; extra: more "key = value" lines.  Returns the path."""
    import slapd_server
    path = os.path.join(directory, "dovecot-referral.conf.ext")
    with open(path, "w", encoding="utf-8") as f:
        f.write("ldap_uris = %s\nldap_bind_dn = %s\nldap_bind_password = %s\n"
                "user_base = ou=people,dc=example,dc=test\n"
                "cache_ttl = 1s\nnegative_cache_ttl = 1s\nlocal_names = %s\n"
                "default_policy = proxy\nallowed_hosts = %s\n%s"
                % (slapd_uri, slapd_server.ROOT_DN, slapd_server.ROOT_PASSWORD, front_addr,
                   " ".join(allowed_hosts), extra))
    os.chmod(path, 0o644)
    return path


def private_slapd(cleanups, addr, ldif_text, name="private.ldif"):
    """Starts a private slapd with our schema and ldif_text; appends its
    stop (and the removal of its directory) to cleanups."""
    import shutil
    import slapd_server
    d = work_dir("slapd")
    srv = slapd_server.SlapdServer(d, addr)
    path = os.path.join(d, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(ldif_text)
    cleanups.append(lambda: (srv.cleanup(), shutil.rmtree(d, ignore_errors=True)) and [])
    srv.start([path])
    return srv


class PrivateServersTest(unittest.TestCase):
    """A test class whose servers are its own: _start() (a classmethod of
    the subclass) starts them and appends their stops to cls.cleanups;
    every one is stopped at the end, also when the start fails halfway."""
    cleanups = []

    @classmethod
    def setUpClass(cls):
        cls.cleanups = []
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        left = []
        for fn in reversed(cls.cleanups):
            left += fn() or []
        cls.cleanups = []
        assert not left, "processes left after stop: %r" % (left,)
