"""A small raw-socket IMAP client for protocol tests (standard library only).

imaplib hides the exact bytes a server sends and cannot send malformed or
unusual commands.  This client sends what the test says and returns what the
server answered, byte for byte (CRLF stripped from each line), so a test can
assert on response codes such as ``NO [REFERRAL imap://...]``.

    c = ImapClient.connect("127.0.0.2", 10143)
    print(c.greeting)                       # b'* OK [CAPABILITY ...] ...'
    untagged, tagged = c.command("a1", "LOGIN alice pw")
    untagged, tagged = c.authenticate_plain("a2", "bob", "pw", sasl_ir=False)
    untagged, tagged = c.command("a3", ["APPEND INBOX ", Literal(b"Subject: x\\r\\n\\r\\nhi\\r\\n")])
    c.close()

Every read has a timeout; a server that stops talking raises ImapTimeout
instead of hanging the test.
"""
import base64
import re
import socket
import time

DEFAULT_TIMEOUT = 10.0
_LITERAL_AT_END = re.compile(rb"\{(\d+)(\+?)\}$")


class ImapError(Exception):
    """The server closed the connection or sent something unparseable."""


class ImapTimeout(ImapError):
    """No complete line arrived within the timeout."""


def _to_bytes(text):
    if isinstance(text, bytes):
        return text
    return text.encode("utf-8")


class ImapClient:
    def __init__(self, sock, timeout=DEFAULT_TIMEOUT):
        self.sock = sock
        self.timeout = timeout
        self._buffer = b""
        self.greeting = None
        # Everything sent and received, for a test's failure message.
        self.transcript = []

    # -- connection --------------------------------------------------------
    @classmethod
    def connect(cls, host, port, timeout=DEFAULT_TIMEOUT, read_greeting=True, source=None):
        """source: the local address to connect from (None: the kernel's
        choice, 127.0.0.1 on loopback)."""
        sock = socket.create_connection((host, port), timeout=timeout,
                                        source_address=(source, 0) if source else None)
        client = cls(sock, timeout)
        if read_greeting:
            client.greeting = client.read_line()
        return client

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- low level -----------------------------------------------------------
    def send_raw(self, data):
        data = _to_bytes(data)
        self.transcript.append(b"C: " + data)
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ImapTimeout("timeout after %.1fs; buffered %r" % (self.timeout, self._buffer[:200]))
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise ImapTimeout("timeout after %.1fs; buffered %r" % (self.timeout, self._buffer[:200]))
        if not chunk:
            raise ImapError("connection closed by server; buffered %r" % self._buffer[:200])
        self._buffer += chunk

    def read_line(self, timeout=None):
        """One line without its CRLF.  Literals inside it are NOT followed:
        use read_response_line for that."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\r\n" not in self._buffer:
            self._fill(deadline)
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        self.transcript.append(b"S: " + line)
        return line

    def read_exact(self, n, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self._buffer) < n:
            self._fill(deadline)
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        self.transcript.append(b"S: <literal %d octets>" % n)
        return data

    def read_response_line(self, timeout=None):
        """One logical server response: a line, and when it ends with a
        literal {n}, the n octets and the rest of the line, joined with the
        literal's CRLF kept (so the result is exactly what was sent, minus
        the final CRLF)."""
        line = self.read_line(timeout)
        while True:
            m = _LITERAL_AT_END.search(line)
            if not m:
                return line
            data = self.read_exact(int(m.group(1)), timeout)
            line = line + b"\r\n" + data + self.read_line(timeout)

    def expect_continuation(self, timeout=None):
        """Reads until a '+' continuation request; returns it.  A tagged or
        untagged response instead is an error (the server refused)."""
        line = self.read_response_line(timeout)
        if not line.startswith(b"+"):
            raise ImapError("expected continuation, got %r" % line)
        return line

    # -- commands ------------------------------------------------------------
    def command(self, tag, text, timeout=None):
        """Sends `tag text` and returns (untagged_lines, tagged_line) as bytes.

        `text` is a str/bytes, or a list of command text pieces and Literal
        objects: ["APPEND INBOX ", Literal(b"message")].  A Literal is
        announced as {n} (synchronising: waits for '+') or, with
        Literal(data, plus=True), as {n+} (LITERAL+, no wait).  If the server answers a
        synchronising literal with a tagged response instead of '+', that
        response is returned and nothing more is sent.

        Untagged lines include '+ ...' continuation requests that arrive
        while waiting for the tagged response."""
        tag = _to_bytes(tag)
        parts = text if isinstance(text, list) else [text]
        untagged = []
        pending = tag + b" "
        for part in parts:
            if isinstance(part, Literal):
                lit = part
                pending += b"{%d%s}\r\n" % (len(lit.data), b"+" if lit.plus else b"")
                self.send_raw(pending)
                pending = b""
                if not lit.plus:
                    line = self.read_response_line(timeout)
                    while not line.startswith(b"+"):
                        if line.startswith(tag + b" "):
                            return untagged, line
                        untagged.append(line)
                        line = self.read_response_line(timeout)
                self.send_raw(lit.data)
            else:
                pending += _to_bytes(part)
        self.send_raw(pending + b"\r\n")
        return self.read_until_tagged(tag, untagged, timeout)

    def read_until_tagged(self, tag, untagged=None, timeout=None):
        tag = _to_bytes(tag)
        untagged = [] if untagged is None else untagged
        while True:
            line = self.read_response_line(timeout)
            if line.startswith(tag + b" "):
                return untagged, line
            untagged.append(line)

    def login(self, tag, user, password, timeout=None):
        return self.command(tag, b"LOGIN " + quote(user) + b" " + quote(password), timeout)

    def authenticate_plain(self, tag, user, password, sasl_ir=True, authzid="", timeout=None):
        """AUTHENTICATE PLAIN, with the initial response on the command line
        (RFC 4959 SASL-IR) or after the server's empty '+' continuation."""
        tag = _to_bytes(tag)
        blob = base64.b64encode(_to_bytes(authzid) + b"\0" + _to_bytes(user) + b"\0" + _to_bytes(password))
        if sasl_ir:
            return self.command(tag, b"AUTHENTICATE PLAIN " + blob, timeout)
        self.send_raw(tag + b" AUTHENTICATE PLAIN\r\n")
        line = self.read_response_line(timeout)
        if not line.startswith(b"+"):
            return [], line
        self.send_raw(blob + b"\r\n")
        return self.read_until_tagged(tag, None, timeout)

    def logout(self, tag=b"zz", timeout=None):
        try:
            return self.command(tag, "LOGOUT", timeout)
        finally:
            self.close()


class Literal:
    """A literal argument; plus=True sends it as LITERAL+ ({n+}, RFC 7888)."""

    def __init__(self, data, plus=False):
        self.data = _to_bytes(data)
        self.plus = plus


def literal_plus(data):
    return Literal(data, plus=True)


def quote(value):
    """An IMAP quoted string (RFC 3501 quoted: backslash-escapes \\ and \")."""
    value = _to_bytes(value)
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def response_code(line):
    """The bracketed response code of a status line, e.g. b'REFERRAL imap://...',
    or None."""
    m = re.match(rb"^\S+ (?:OK|NO|BAD|BYE|PREAUTH) \[([^\]]*)\]", line)
    return m.group(1) if m else None
