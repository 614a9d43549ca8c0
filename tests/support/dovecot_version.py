"""Which Dovecot the tests run against, and the log texts that differ.

The same tests run on Dovecot 2.3 (the host) and on 2.4 (the Debian 13
root, scripts/debian13-root.sh): whichever `dovecot` is on PATH is the one
the lab and the tests' private servers start.  Only what 2.4 really writes
differently lives here; a test asks for the text, not for the version,
wherever it can.
"""
import functools
import re
import subprocess


@functools.lru_cache(maxsize=None)
def dovecot_version():
    """(major, minor, patch) of the `dovecot` on PATH, from `dovecot --version`
    ("2.3.19.1 (9b53102964)", "2.4.1-4 (7d8c0e5759)")."""
    out = subprocess.run(["dovecot", "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=30).stdout.decode("ascii", "replace")
    m = re.match(r"\s*(\d+)\.(\d+)\.(\d+)", out)
    if not m:
        raise RuntimeError("cannot read the Dovecot version from %r" % out.strip())
    return tuple(int(x) for x in m.groups())


def is_24():
    """True when the Dovecot on PATH is 2.4 or later (2.4 configuration
    language, 2.4 log texts)."""
    return dovecot_version()[:2] >= (2, 4)


def version_label():
    """"2.3" or "2.4"."""
    return "2.4" if is_24() else "2.3"


def login_ok_log(user):
    """Regex of imap-login's info line for a successful local login of
    `user`: 2.3 "Login: user=<u>", 2.4 "Logged in: user=<u>"
    (client_destroy_success() in login-common)."""
    return r"%s: user=<%s>" % ("Logged in" if is_24() else "Login", re.escape(user))


def login_ok_text(user):
    """The same line's text as a plain string ("Login: user=<u>" /
    "Logged in: user=<u>")."""
    return "%s user=<%s>" % (login_ok_prefix(), user)


def login_ok_prefix():
    """The plain text that starts that line's message ("Login:" / "Logged in:")."""
    return "Logged in:" if is_24() else "Login:"


def login_end_log(user):
    """Regex of imap-login's info line that ends a session which never got
    past the login (a referral, a refused or dropped login) for `user`:
    2.3 "Disconnected: ... user=<u>", 2.4 "Login aborted: ... user=<u>"."""
    return r"%s[^\n]*user=<%s>" % (re.escape(login_end_prefix()), re.escape(user))


def login_end_prefix():
    """That line's leading text: "Disconnected:" (2.3) / "Login aborted:" (2.4)."""
    return "Login aborted:" if is_24() else "Disconnected:"


def passdb_log(passdb, user=None, rip=None):
    """Regex of the start of an auth process line written for one request by
    passdb `passdb` (its driver name on 2.3, its block name on 2.4), up to
    the message:
      2.3  auth: Info: referral(alice,127.0.0.1,<sess>): ...
      2.4  auth(alice,127.0.0.1,sasl:plain)<sess>: Info: referral: ...
    `user` and `rip` (regexes) default to any value."""
    u = user if user is not None else r"[^,()]*"
    ip = rip if rip is not None else r"[^,()]*"
    if is_24():
        return r"auth\(%s,%s(?:,[^)]*)?\)(?:<[^>]*>)?: \w+: %s: " % (u, ip, re.escape(passdb))
    return r"%s\(%s,%s(?:,[^)]*)?\): " % (re.escape(passdb), u, ip)


def auth_log_prefix(passdb, user):
    """Like passdb_log() for an escaped user name, with the request's session
    id as group 1."""
    u = re.escape(user)
    if is_24():
        return r"auth\(%s,[^)]*\)<([^>]+)>: \w+: %s: " % (u, re.escape(passdb))
    return r"%s\(%s,[^)]*<([^>]+)>\): " % (re.escape(passdb), u)


# The tagged NO for a mailbox that does not exist: 2.4 adds the
# [NONEXISTENT] response code (RFC 5530) that 2.3 left out.
NO_SUCH_MAILBOX = (b"NO [NONEXISTENT] Mailbox doesn't exist: " if is_24()
                   else b"NO Mailbox doesn't exist: ")

# 2.4 delays every internal authentication failure (a passdb answering
# "temporary failure", e.g. a directory that does not answer) by
# auth_internal_failure_delay, 2 s plus up to 50 % at random
# (auth-request.c); 2.3 answers at once.  Tests that bound the time of
# NO [UNAVAILABLE] add this.
INTERNAL_FAILURE_DELAY_MAX = 3.0 if is_24() else 0.0
