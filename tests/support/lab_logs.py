"""Reading a lab server's log from the integration tests.

A mixin for test-side lab wrappers that hold the parsed lab.env as
`self.env`: log names are lab.env keys (FRONT_LOG, HOME1_LOG, ...).
Tests remember `log_size()` before an action and then wait for the lines
the action must write, so they never match lines of earlier tests.

A test that checks a line is ABSENT must first let the action's lines
arrive: Dovecot's log process writes what the other processes send it
some time after the client got its reply, so a log read right after the
reply can miss a line that is on its way (and the check could then never
fail).  It waits for a later line of the same action where there is one,
else for the log to settle (`wait_settled()`).
"""
import os
import re
import time


def wait_settled(path, quiet=0.5, timeout=10.0):
    """Waits until the file at `path` has not grown for `quiet` seconds
    (at most `timeout`: a log that other work keeps writing to is read as
    it is then), i.e. until lines already on their way to Dovecot's log
    process are in it.  Returns its size."""
    deadline = time.monotonic() + timeout
    size = os.path.getsize(path)
    still_since = time.monotonic()
    while True:
        time.sleep(0.05)
        now = time.monotonic()
        new = os.path.getsize(path)
        if new != size:
            size, still_since = new, now
        elif now - still_since >= quiet:
            return size
        if now > deadline:
            return size


class LabLogs:
    def log(self, name="FRONT_LOG"):
        with open(self.env[name], "r", encoding="utf-8", errors="replace") as f:
            return f.read()

    def log_size(self, name="FRONT_LOG"):
        return os.path.getsize(self.env[name])

    def log_since(self, offset, name="FRONT_LOG"):
        with open(self.env[name], "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def settled_log_since(self, offset, name="FRONT_LOG"):
        """The log written since `offset`, once it has settled (for checks
        that a line is absent)."""
        wait_settled(self.env[name])
        return self.log_since(offset, name)

    def wait_log(self, offset, pattern, name="FRONT_LOG", timeout=10.0):
        """Waits until the log written since `offset` matches the regex."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            text = self.log_since(offset, name)
            if rx.search(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError("%r not in %s within %.0fs; new lines:\n%s"
                                     % (pattern, self.env[name], timeout, text[-3000:]))
            time.sleep(0.05)
