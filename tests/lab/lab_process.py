"""Process groups, free ports and readiness probes for the loopback lab.

Every daemon of the lab runs in its own session (setsid), so its process
group id equals the pid we started, and everything it forks stays in that
group: stopping the group stops all of it, and listing the group's members
tells whether anything is left.
"""
import os
import random
import signal
import socket
import subprocess
import time

# Away from the Linux ephemeral range (32768-60999), so an outgoing
# connection can never have taken the port between the check and the bind.
PORT_RANGE = (20000, 32000)


class LabError(RuntimeError):
    pass


def port_free(addr, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((addr, port))
        except OSError:
            return False
    return True


def pick_port(addrs, taken=(), attempts=500):
    """A port free on every address in addrs (the homes share one port so a
    bare mailHost plus home_port reaches either of them)."""
    rng = random.Random(os.getpid() ^ int(time.time() * 1000))
    for _ in range(attempts):
        port = rng.randrange(*PORT_RANGE)
        if port in taken:
            continue
        if all(port_free(a, port) for a in addrs):
            return port
    raise LabError("no free port in %d-%d on %s" % (PORT_RANGE + (", ".join(addrs),)))


def _stat_fields(pid):
    """(state, pgid) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # comm is in parentheses and may contain spaces: split after the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[2])


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def group_members(pgid):
    """Live (non-zombie) processes of process group pgid: [(pid, cmdline)]."""
    out = []
    for pid in _all_pids():
        st = _stat_fields(pid)
        if st and st[1] == pgid and st[0] != "Z":
            out.append((pid, _cmdline(pid)))
    return out


def processes_mentioning(text, programs=("dovecot", "slapd")):
    """Live daemons (argv[0] basename in programs) whose command line
    contains text (e.g. the lab dir)."""
    out = []
    for pid in _all_pids():
        st = _stat_fields(pid)
        if not st or st[0] == "Z":
            continue
        cmd = _cmdline(pid)
        prog = os.path.basename(cmd.split(" ", 1)[0]) if cmd else ""
        if prog in programs and text in cmd:
            out.append((pid, cmd))
    return out


def mapped_by_any_process(path):
    """True when a live process has the file mapped (e.g. an auth process
    that loaded a passdb driver)."""
    real = os.path.realpath(path)
    for pid in _all_pids():
        try:
            with open("/proc/%d/maps" % pid, "r", encoding="utf-8", errors="replace") as f:
                if real in f.read():
                    return True
        except OSError:
            continue
    return False


def alive(pid):
    st = _stat_fields(pid) if pid else None
    return st is not None and st[0] != "Z"


def stop_group(pgid, timeout=10.0):
    """SIGCONT+SIGTERM to the group, SIGKILL after timeout.  Returns the
    members still alive afterwards (empty when everything is gone)."""
    if not pgid:
        return []
    for sig in (signal.SIGCONT, signal.SIGTERM):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group_members(pgid):
            return []
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return []
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        left = group_members(pgid)
        if not left:
            return []
        time.sleep(0.05)
    return group_members(pgid)


def spawn(argv, log_path, env=None):
    """Starts argv in a new session with stdin=/dev/null and stdout/stderr
    appended to log_path (never our own descriptors: ctest waits for those
    to close)."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, close_fds=True, env=env)
    return proc


def wait_imap_greeting(addr, port, proc, timeout, describe_failure, fatal_log=None):
    """Waits until addr:port answers with an IMAP '* OK' greeting.  Raises
    LabError with describe_failure() appended when proc exits, when a
    "Fatal:" line appears in fatal_log (a service that cannot start is
    retried by the master forever), or when time runs out."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LabError("exited with status %d during start-up\n%s"
                           % (proc.returncode, describe_failure()))
        if fatal_log and has_fatal(fatal_log):
            raise LabError("a service failed to start\n%s" % describe_failure())
        try:
            with socket.create_connection((addr, port), timeout=1.0) as s:
                s.settimeout(2.0)
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"* OK"):
                    return data.split(b"\r\n", 1)[0]
                last = "greeting %r" % data[:100]
        except OSError as e:
            last = str(e)
        time.sleep(0.05)
    raise LabError("no IMAP greeting on %s:%d within %.0fs (%s)\n%s"
                   % (addr, port, timeout, last, describe_failure()))


def has_fatal(path):
    try:
        with open(path, "rb") as f:
            return b": Fatal: " in f.read()
    except OSError:
        return False


def log_tail(path, n=25):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            lines = f.readlines()[-n:]
    except OSError:
        return "(no log at %s)" % path
    if not "".join(lines).strip():
        return ""
    return "--- last lines of %s ---\n%s" % (path, "".join(lines))
