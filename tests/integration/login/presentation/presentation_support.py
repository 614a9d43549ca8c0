"""Shared helpers of the login-presentation tests (not a test by itself).

- PluginFront: a private front Dovecot with the referral login plugin loaded
  from the build tree, its own settings file, and a passwd-file passdb whose
  extra fields stand in for the passdb driver's decision (DOVECOT-NOTES §5.1):
  `nologin host=.. port=.. destuser=.. reason=.. nodelay`.  It is rendered
  with the lab's own DovecotInstance (tests/lab/lab_dovecot.py) so it is
  configured exactly like a lab server, in the configuration language of the
  Dovecot on PATH (2.3 or 2.4; on 2.4 the settings module that registers
  referral_config must be linked into Dovecot's module dir, which the ctest
  lab fixture does).
- check_referral_url / check_referral_line: the URL shape rules of
  REQUIREMENTS.md §6 item 6, applied to every referral a test sees.
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import referral_support  # noqa: F401  (puts tests/lab and tests/support on sys.path)

import lab_dovecot
import lab_process
from imap_client import ImapClient, ImapError  # noqa: F401

PLUGIN_FILE = "lib95_referral_login_plugin.so"
# The login tests' own addresses (CONTRACTS.md: LOGIN 127.0.0.30-39).
FRONT_ADDR = os.environ.get("DREF_LOGIN_TEST_ADDR", "127.0.0.31")
DRAIN_ADDR = os.environ.get("DREF_LOGIN_DRAIN_ADDR", "127.0.0.32")


def build_dir():
    d = os.environ.get("DREF_BUILD_DIR")
    if not d:
        raise RuntimeError("DREF_BUILD_DIR is not set (ctest sets it)")
    return os.path.abspath(d)


def plugin_dir():
    d = os.path.join(build_dir(), "plugin", "login")
    if not os.path.exists(os.path.join(d, PLUGIN_FILE)):
        raise RuntimeError("%s not built in %s" % (PLUGIN_FILE, d))
    return d


def work_dir(name):
    """A fresh directory for one front, short enough for Dovecot's sockets
    and searchable by the mail uid (lab_dovecot.check_traversable)."""
    base = os.environ.get("DREF_LOGIN_TEST_DIR") or os.path.join(build_dir(), "login-tests")
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o755)
    d = tempfile.mkdtemp(prefix=name + "-", dir=base)
    os.chmod(d, 0o755)  # mkdtemp makes it 0700: the auth and mail processes are not root
    return d


SETTINGS_BASE = """\
# dovecot-referral settings of a login-presentation test front.
# The login plugin reads only the login keys; the directory keys are
# required by the shared loader (plugin/core/settings/settings.h).
ldap_uris = ldap://127.0.0.1:9/
user_base = ou=people,dc=example,dc=test
"""


class PluginFront:
    """A front Dovecot with the login plugin.  `passwd_lines` are complete
    passwd-file lines (user:{PLAIN}pw::::::extra fields)."""

    def __init__(self, name, passwd_lines, settings_text, addr=FRONT_ADDR, extra_conf="",
                 login_plugin_dir=None):
        self.dir = work_dir(name)
        self.addr = addr
        self.port = lab_process.pick_port([addr])
        self.settings_path = os.path.join(self.dir, "dovecot-referral.conf.ext")
        with open(self.settings_path, "w", encoding="utf-8") as f:
            f.write(settings_text)
        self.instance = lab_dovecot.DovecotInstance(name, self.dir, addr, self.port, [])
        include = lab_dovecot.conf_login_plugin(login_plugin_dir or plugin_dir(),
                                                self.settings_path) + extra_conf
        self.instance.prepare(include=include)
        with open(os.path.join(self.dir, "passwd"), "w", encoding="utf-8") as f:
            for line in passwd_lines:
                f.write(line + "\n")
        self.instance.finish_prepare()

    @property
    def log(self):
        return self.instance.log

    def start(self):
        self.instance.start()

    def start_unchecked(self):
        """Starts the master without waiting for a greeting (for a front
        that is expected not to serve)."""
        self.instance.validate()
        self.instance.proc = lab_process.spawn(["dovecot", "-F", "-c", self.instance.conf],
                                               self.instance.stdout_log)
        self.instance.pid = self.instance.proc.pid

    def stop(self):
        """Stops every process of this front; removes its directory unless
        DREF_KEEP_TEST_DIRS is set (failure messages carry the log tail)."""
        left = self.instance.stop()
        if left:
            raise RuntimeError("processes left after stop: %r" % (left,))
        if not os.environ.get("DREF_KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self, **kw):
        return ImapClient.connect(self.addr, self.port, **kw)

    def read_log(self):
        try:
            with open(self.log, "r", encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, needle, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.read_log()
            if needle in text:
                return text
            time.sleep(0.05)
        raise AssertionError("%r not in %s within %.0fs\n%s"
                             % (needle, self.log, timeout, lab_process.log_tail(self.log)))


# Dovecot metric over the plugin's event (docs/login-plugin.md, Events).
REPLY_METRIC = lab_dovecot.conf_metric("referral_login_reply", "referral_login_reply",
                                      ("reply", "command"))


def metric_counts(front):
    """{metric name: count} from `doveadm stats dump` of the front."""
    p = subprocess.run(["doveadm", "-c", front.instance.conf, "stats", "dump"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    counts = {}
    for line in out.splitlines()[1:]:
        f = line.split("\t")
        if len(f) > 2 and f[1] == "duration":
            counts[f[0]] = int(f[2])
    return counts


# -- URL shape (REQUIREMENTS.md §6 item 6) ------------------------------------

_UNRESERVED = "A-Za-z0-9\\-._~"
_SUB_DELIMS_SH = "!$'()*+,"
# achar = unreserved / sub-delims-sh / "&" / "=" / pct-encoded (uppercase hex, D-12)
_ACHAR = r"(?:[%s%s&=]|%%[0-9A-F]{2})" % (_UNRESERVED, re.escape(_SUB_DELIMS_SH))
_SERVER_URL = re.compile(
    r"^imap://(?P<user>%s*)(?:;AUTH=(?P<auth>\*|%s+))?@(?P<host>[^/:@\[\]]+)(?::(?P<port>[0-9]+))?/$"
    % (_ACHAR, _ACHAR))


def check_referral_url(url):
    """Asserts the canonical login/greeting referral URL shape and returns its
    parts (user, auth, host, port).  Rules: scheme imap://; user and/or
    ;AUTH= (D-2, R5092-4); ;AUTH=* literal, never %2A (R5092-6); host non-empty
    and not an IPv6 literal (D-4); port only when not 143 (R5092-1); trailing
    "/" (D-1); only achar + %HH with uppercase hex (D-12); no "]" (R3501-1);
    7-bit (R3501-4)."""
    if isinstance(url, bytes):
        try:
            url = url.decode("ascii")
        except UnicodeDecodeError:
            raise AssertionError("referral URL is not 7-bit: %r" % url)
    assert all(0x21 <= ord(c) <= 0x7E for c in url), "control/space in URL %r" % url
    assert "]" not in url and "[" not in url, "bracket in URL %r" % url
    assert ";AUTH=%2A" not in url.upper(), ";AUTH=%%2A instead of ;AUTH=* in %r" % url
    m = _SERVER_URL.match(url)
    assert m, "not a canonical RFC 5092 server URL: %r" % url
    user, auth, host, port = m.group("user"), m.group("auth"), m.group("host"), m.group("port")
    assert user or auth is not None, "URL has neither user nor ;AUTH= (anonymous): %r" % url
    assert host, "empty host in %r" % url
    assert ":" not in host, "IPv6-looking host in %r" % url
    if port is not None:
        assert port != "143" and 0 < int(port) < 65536, "bad or default port in %r" % url
    return user, auth, host, (int(port) if port else 143)


_STATUS_REFERRAL = re.compile(rb"^(?P<tag>\S+) (?P<cond>OK|NO|BYE) \[REFERRAL (?P<url>[^\]]*)\] (?P<text>.*)$")


def check_referral_line(line):
    """Asserts one response line carrying a REFERRAL code: exactly one URL
    (R2221-14), exactly one SP after "]" and a non-empty 7-bit text
    (R3501-2, R3501-4).  Returns (tag, cond, url, text) as str."""
    assert b"\r" not in line and b"\n" not in line, "CR/LF inside %r" % line
    m = _STATUS_REFERRAL.match(line)
    assert m, "not a REFERRAL response: %r" % line
    url, text = m.group("url"), m.group("text")
    assert b" " not in url, "more than one URL in a login referral: %r" % line
    assert text and not text.startswith(b" "), "empty text or double SP after ']': %r" % line
    assert all(0x20 <= b <= 0x7E for b in text), "non-7-bit text: %r" % line
    check_referral_url(url)
    return (m.group("tag").decode(), m.group("cond").decode(), url.decode(), text.decode())


def closed_by_server(client, timeout=5.0):
    """True when the server closes the connection (EOF) within timeout
    without sending anything more."""
    sock = client.sock
    sock.settimeout(timeout)
    try:
        data = sock.recv(4096)
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True
    assert data == b"", "server sent more after the BYE: %r" % data
    return True
