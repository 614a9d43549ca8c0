"""Reading a lab server's log from the integration tests.

A mixin for test-side lab wrappers that hold the parsed lab.env as
`self.env`: log names are lab.env keys (FRONT_LOG, HOME1_LOG, ...).
Tests remember `log_size()` before an action and then wait for the lines
the action must write, so they never match lines of earlier tests.
"""
import os
import re
import time


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
