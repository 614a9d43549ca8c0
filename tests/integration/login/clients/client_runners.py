"""How the client tests run each real IMAP client (issue 11; not a test).

Every runner logs one user in at a given server, as that client does by
itself (no option that changes its referral handling), tries to read the
subject of message 1 of the INBOX, and returns a Result:

  ok       the client logged in and read a message
  subject  that message's Subject ("Welcome to <user>'s INBOX on <server>",
           tests/lab/lab_dovecot.py), which names the server it came from
  detail   what the client said (error text, exit status, its output)

The clients: Python's imaplib (standard library), curl and isync's mbsync
in batch mode (Debian packages, scripts/install-deps.sh), and the UW
c-client probe (tests/clients/cclient_probe.c, a c-client application with
a referral callback as Alpine's).  The probe is started with start_cclient()
and stays connected until quit(), so that the caller can look at the
session on the server side while it is there.
"""
import imaplib
import os
import re
import subprocess
import tempfile
import time

SUBJECT = re.compile(rb"^Subject: ([^\r\n]*)", re.M | re.I)


class Result:
    def __init__(self, ok, subject=None, detail=""):
        self.ok = ok
        self.subject = subject
        self.detail = detail

    def __repr__(self):
        return "Result(ok=%r, subject=%r, detail=%r)" % (self.ok, self.subject, self.detail[-600:])


def run_imaplib(host, port, user, password, timeout=20):
    """imaplib.IMAP4: LOGIN, SELECT INBOX, FETCH 1.  The tagged login reply
    (with any response code) is kept in detail."""
    try:
        m = imaplib.IMAP4(host, port, timeout=timeout)
    except OSError as e:
        return Result(False, detail="connect: %s" % e)
    try:
        try:
            typ, data = m.login(user, password)
        except imaplib.IMAP4.error as e:
            return Result(False, detail="login: %s" % e)
        login_reply = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        typ, _ = m.select("INBOX", readonly=True)
        if typ != "OK":
            return Result(False, detail="select: %s; login: %s" % (typ, login_reply))
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        raw = b"".join(p[1] for p in data if isinstance(p, tuple))
        s = SUBJECT.search(raw)
        return Result(typ == "OK" and s is not None, s.group(1).decode() if s else None,
                      "login: %s" % login_reply)
    except (imaplib.IMAP4.error, OSError) as e:
        return Result(False, detail="session: %s" % e)
    finally:
        try:
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def run_curl(host, port, user, password, timeout=20):
    """curl imap://host:port/INBOX;MAILINDEX=1: the whole message on stdout.
    The credentials go through a config file on stdin, not the command line."""
    cfg = 'user = "%s:%s"\n' % (user, password)
    p = subprocess.run(["curl", "--silent", "--show-error", "--max-time", str(timeout),
                        "--config", "-", "imap://%s:%d/INBOX;MAILINDEX=1" % (host, port)],
                       input=cfg.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout + 10)
    s = SUBJECT.search(p.stdout)
    return Result(p.returncode == 0 and s is not None, s.group(1).decode() if s else None,
                  "exit %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace").strip()))


MBSYNC_CONF = """IMAPAccount lab
Host {host}
Port {port}
User {user}
PassCmd "cat {pwfile}"
SSLType None
AuthMechs PLAIN LOGIN
Timeout {timeout}

IMAPStore lab-remote
Account lab

MaildirStore lab-local
Path {maildir}/
Inbox {maildir}/INBOX

Channel lab
Far :lab-remote:
Near :lab-local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
"""


def run_mbsync(host, port, user, password, workdir, timeout=20):
    """mbsync (isync) in batch mode: pulls the INBOX into a fresh Maildir
    under workdir and reads the Subject of what arrived."""
    d = tempfile.mkdtemp(prefix="mbsync-%s-" % user, dir=workdir)
    pwfile = os.path.join(d, "pw")
    with open(pwfile, "w", encoding="utf-8") as f:
        f.write(password)
    maildir = os.path.join(d, "Maildir")
    os.makedirs(maildir)
    conf = os.path.join(d, "mbsyncrc")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(MBSYNC_CONF.format(host=host, port=port, user=user, pwfile=pwfile,
                                   maildir=maildir, timeout=timeout))
    p = subprocess.run(["mbsync", "--config", conf, "--all"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout + 20)
    subject = None
    for sub in ("cur", "new"):
        folder = os.path.join(maildir, "INBOX", sub)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            with open(os.path.join(folder, name), "rb") as f:
                s = SUBJECT.search(f.read())
            if s:
                subject = s.group(1).decode()
                break
        if subject:
            break
    return Result(p.returncode == 0 and subject is not None, subject,
                  "exit %d: %s" % (p.returncode, p.stdout.decode("utf-8", "replace").strip()))


class CClientProbe:
    """The running c-client probe: its report lines, its pid (the test finds
    its TCP connections by pid), quit() to let it log out."""

    def __init__(self, probe, host, port, user, password, timeout=30):
        env = dict(os.environ, DREF_PROBE_PASSWORD=password)
        self.proc = subprocess.Popen([probe, host, str(port), user], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                     start_new_session=True)
        self.pid = self.proc.pid
        self.lines = []
        deadline = time.monotonic() + timeout
        # Reads until the probe is connected ("ready") or has given up.
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            line = line.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if line.startswith("ready") or line.startswith("failed"):
                break

    def value(self, key):
        for line in self.lines:
            if line.startswith(key + " "):
                return line[len(key) + 1:]
        return None

    def values(self, key):
        return [l[len(key) + 1:] for l in self.lines if l.startswith(key + " ")]

    @property
    def ready(self):
        return bool(self.lines) and self.lines[-1].startswith("ready")

    def result(self):
        return Result(self.ready and self.value("subject") is not None, self.value("subject"),
                      "\n".join(self.lines))

    def quit(self, timeout=15):
        """Logs out (stdin "quit") and waits; kills the probe if it hangs."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        rest = self.proc.stdout.read().decode("utf-8", "replace")
        self.lines += [l for l in rest.splitlines() if l]
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


def tcp_connections():
    """Established TCP connections on this machine: [(local, peer, {pids})]
    with local/peer as "addr:port" (ss from iproute2; the lab is loopback,
    so both ends of every lab connection are in the list)."""
    p = subprocess.run(["ss", "-tnpH", "state", "established"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20, check=True)
    out = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        cols = line.split()
        # Recv-Q Send-Q Local Peer [Process] (no State column with a state filter)
        if len(cols) < 4:
            continue
        pids = {int(x) for x in re.findall(r"pid=(\d+)", line)}
        out.append((cols[2], cols[3], pids))
    return out
