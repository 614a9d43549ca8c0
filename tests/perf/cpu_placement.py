"""Where the processes of a timed benchmark run (tests/perf): CPU pinning and
scheduling priority, the same for every variant.

On this 2-core machine the load generator, slapd and the measured front
share both cores with each other and with whatever else runs (builds).  A
front's logins/s then depends on how much CPU the others happen to leave
it, which moves a pass's rate by ±20-30 % from one round to the next.
With a Placement:

* the front's Dovecot processes (master, and so every process it forks,
  and every thread) run on the last CPU only;
* the load generator, slapd and the benchmark driver run on the other
  CPUs, so they never take the front's CPU and the front's own cost
  decides its rate;
* all of them run at nice -19 (optional), so other work on the machine
  (nice 0) gets about 1/70 of a CPU that one of them wants, instead of
  half of it.

Linux keeps affinity and nice per thread and passes both on at fork() and
pthread_create(): setting them on every thread of the master (and of the
processes it has already started) covers the processes it starts later.
The front's run time (schedstat) over the pass's time shows how much of
its CPU the front had.

Standard library only; needs root for negative nice values.
"""
import os

import perf_common as pc


def _tids(pid):
    try:
        return [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        return []


def group_tids(pgid):
    """Every thread of the live processes of process group pgid."""
    return [tid for pid, _, _ in pc.group_processes(pgid) for tid in _tids(pid)]


def _thread_schedstats(pgid):
    """(pid, process name, run ns, run-queue wait ns) of every thread of
    the live processes of a process group (/proc/PID/task/TID/schedstat:
    exact nanoseconds, not /proc/PID/stat's 10 ms ticks)."""
    for pid, comm, _ in pc.group_processes(pgid):
        for tid in _tids(pid):
            try:
                with open("/proc/%d/task/%d/schedstat" % (pid, tid), encoding="ascii") as f:
                    fields = f.read().split()
            except OSError:
                continue
            if len(fields) >= 2:
                yield pid, comm, int(fields[0]), int(fields[1])


def group_sched_ns(pgid):
    """(run ns, run-queue wait ns) summed over every thread of the live
    processes of a process group.  The wait sums the threads: the front's
    own processes wait for each other on one CPU.  Threads that end
    between two readings take their share with them: in login mode sc0 no
    process of a referral front ends during a pass."""
    run = wait = 0
    for _, _, r, w in _thread_schedstats(pgid):
        run += r
        wait += w
    return run, wait


def group_sched_ns_by_process(pgid):
    """{(pid, process name): run ns} of each live process of a process
    group, all its threads: which of the front's processes (auth,
    imap-login, log, anvil, stats, the master, ...) ran how long."""
    out = {}
    for pid, comm, run, _ in _thread_schedstats(pgid):
        out[(pid, comm)] = out.get((pid, comm), 0) + run
    return out


def sched_ns_by_name(before, after):
    """{process name: run ns} between two group_sched_ns_by_process()
    readings; a process that started in between counts whole."""
    out = {}
    for key, ns in after.items():
        out[key[1]] = out.get(key[1], 0) + ns - before.get(key, 0)
    return out


class Placement:
    """front_cpus / rest_cpus: sets of CPU numbers; nice: None (unchanged)
    or the nice value of every placed thread."""

    def __init__(self, front_cpus, rest_cpus, nice=None):
        self.front_cpus, self.rest_cpus, self.nice = set(front_cpus), set(rest_cpus), nice

    @classmethod
    def split(cls, nice=None):
        """The last CPU for the front, the others for the rest; None on a
        machine with one CPU (nothing to split)."""
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return None
        return cls({cpus[-1]}, set(cpus[:-1]), nice)

    def describe(self):
        text = "front on CPU %s, load generator, slapd and driver on CPU %s" % (
            ",".join(map(str, sorted(self.front_cpus))),
            ",".join(map(str, sorted(self.rest_cpus))))
        if self.nice is not None:
            text += ", all at nice %d" % self.nice
        return text

    def _place(self, tids, cpus):
        for tid in tids:
            try:
                os.sched_setaffinity(tid, cpus)
                if self.nice is not None:
                    os.setpriority(os.PRIO_PROCESS, tid, self.nice)
            except ProcessLookupError:
                pass  # ended in between

    def place_self(self):
        """The driver (every thread of this process); the load generator and
        ldapsearch, started from here, inherit it."""
        self._place(_tids(os.getpid()), self.rest_cpus)

    def place_rest(self, pgid):
        """A helper server (slapd, the leader of its own process group):
        every thread of its group."""
        self._place(group_tids(pgid), self.rest_cpus)

    def place_front(self, pgid):
        """Every thread of a front's process group."""
        self._place(group_tids(pgid), self.front_cpus)

    def check_front(self, pgid):
        """The threads of the front that run outside front_cpus (an empty
        list when the placement holds)."""
        return [tid for tid in group_tids(pgid)
                if _safe_affinity(tid) not in (None, self.front_cpus)]


def _safe_affinity(tid):
    try:
        return os.sched_getaffinity(tid)
    except OSError:
        return None
