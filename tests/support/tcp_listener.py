"""A listening TCP socket served by a thread, for small loopback servers the
tests need around Dovecot (tests/support/smtp_sink.py, a home server that
never answers).  Each accepted connection goes to handle(conn, peer) in a
thread of its own; stop() closes the listener and every connection.
"""
import socket
import threading


class TcpListener:
    def __init__(self, addr, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(16)
        self.conns = []
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def handle(self, conn, peer):
        """Serves one connection; the default keeps it open and silent."""

    def _accept(self):
        while not self.stopping:
            try:
                c, peer = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.handle, args=(c, peer), daemon=True).start()

    def stop(self):
        """Closes the listener and every connection; returns [] (for the
        tests' cleanup lists: nothing is left running)."""
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.thread.join(5)
        return []
