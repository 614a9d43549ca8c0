"""A running Dovecot's child processes, and a fresh auth process for it.

The passdb driver keeps its directory answers in the auth process
(cache_ttl; the last answer of each user also serves while the directory is
down, docs/login-referrals.md §1.3).  `doveadm auth cache flush` does not
reach that cache: an outage test that needs a user with no usable answer
restarts the auth process with `doveadm reload`, as an administrator would.
"""
import os
import subprocess
import time


def children(master_pid, comm_prefix):
    """Pids of master_pid's children whose program name (/proc/PID/stat
    comm: the name cut to 15 bytes) starts with comm_prefix."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "r") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == master_pid and comm.startswith(comm_prefix):
            pids.append(int(name))
    return pids


def restart_auth(conf, master_pid, timeout=15.0):
    """`doveadm -c conf reload`, then waits until the auth processes that
    ran before have exited: the next login gets a new auth process, with
    empty caches (Dovecot's and the driver's).  The master keeps its pid."""
    old = set(children(master_pid, "auth"))
    p = subprocess.run(["doveadm", "-c", conf, "reload"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    if p.returncode != 0:
        raise AssertionError("doveadm reload: %s" % p.stdout.decode("utf-8", "replace"))
    deadline = time.monotonic() + timeout
    while old & set(children(master_pid, "auth")):
        if time.monotonic() > deadline:
            raise AssertionError("the auth processes %r still run %.0f s after the reload"
                                 % (sorted(old), timeout))
        time.sleep(0.05)
