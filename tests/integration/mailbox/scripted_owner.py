"""Scripted owning servers for the relay's lab tests (docs/mailbox-relay.md
§3.6-§3.7).  Not a test.

No real Dovecot sends hostile names, other separators than it announced,
floods of untagged replies or lines without end, so the tests that check
what the relay's imapc does with them talk to these small IMAP servers on
home1's address.  ScriptedOwner speaks just enough IMAP for Dovecot's imapc
(greeting, AUTHENTICATE PLAIN, LIST, SELECT/EXAMINE, STATUS, APPEND with a
literal, CREATE, DELETE, RENAME, and OK for anything else) and records every
command line it received (`received`, literals inlined), so a test can check
what reached the owner's wire.
"""
import re
import threading

from tcp_listener import TcpListener

_LITERAL = re.compile(rb"\{(\d+)(\+?)\}$")


class ScriptedOwner(TcpListener):
    ENTRY = "Shared/Scripted"  # the directory entry tests make for this owner
    SEP = b"/"                 # the hierarchy separator it announces

    def __init__(self, addr, port):
        self.received = []
        self.lock = threading.Lock()
        super().__init__(addr, port)

    # -- what a subclass changes ------------------------------------------
    def answer(self, pattern):
        """The untagged lines of a LIST answer for `pattern` (as sent)."""
        if pattern == b'""':
            return [b'* LIST (\\Noselect) "' + self.SEP + b'" ""']
        return []

    def select(self, conn, tag, name):
        """SELECT/EXAMINE: an empty mailbox.  False: the connection ends."""
        conn.sendall(b"* FLAGS (\\Seen)\r\n* 0 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n"
                     b"* OK [UIDNEXT 1] n\r\n" + tag + b" OK [READ-WRITE] selected\r\n")
        return True

    # -- the protocol ------------------------------------------------------
    def commands(self, f, conn):
        """Command lines with their literals inlined (a '+' sent for each
        synchronising one)."""
        while True:
            line = f.readline()
            if not line:
                return
            line = line.rstrip(b"\r\n")
            m = _LITERAL.search(line)
            while m:
                if not m.group(2):
                    conn.sendall(b"+ go\r\n")
                line += b"\r\n" + f.read(int(m.group(1)))
                rest = f.readline().rstrip(b"\r\n")
                line += rest
                m = _LITERAL.search(rest)
            yield line

    def handle(self, conn, peer):
        f = conn.makefile("rb")
        try:
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] scripted owner\r\n")
            for line in self.commands(f, conn):
                with self.lock:
                    self.received.append(line)
                parts = line.split(b" ", 2)
                if len(parts) < 2:
                    continue
                tag, cmd = parts[0], parts[1].upper()
                args = parts[2] if len(parts) > 2 else b""
                if cmd == b"AUTHENTICATE" and len(args.split(b" ")) == 1:
                    conn.sendall(b"+ \r\n")
                    f.readline()
                elif cmd == b"LIST":
                    pattern = args.rsplit(b" ", 1)[-1]
                    conn.sendall(b"".join(l + b"\r\n" for l in self.answer(pattern)))
                elif cmd in (b"SELECT", b"EXAMINE"):
                    if not self.select(conn, tag, args.split(b" ")[0]):
                        return
                    continue
                elif cmd == b"STATUS":
                    name = args.split(b" (")[0]
                    conn.sendall(b"* STATUS " + name + b" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 7)\r\n")
                elif cmd == b"LOGOUT":
                    conn.sendall(b"* BYE bye\r\n" + tag + b" OK bye\r\n")
                    return
                conn.sendall(tag + b" OK [CAPABILITY IMAP4rev1] done\r\n")
        except OSError:
            pass

    def commands_naming(self, needle):
        """The received command lines that contain `needle` (bytes)."""
        with self.lock:
            return [l for l in self.received if needle in l]
