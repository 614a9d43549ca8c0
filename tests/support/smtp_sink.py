"""A minimal SMTP server that accepts every message and keeps it in memory:
the relay MTA behind the lab's Dovecot submission service (which refuses to
start without submission_relay_host; the machines have no MTA package).
It speaks just enough RFC 5321 for Dovecot's relay client: EHLO/HELO, MAIL,
RCPT, DATA (dot-unstuffing), RSET, NOOP, QUIT; pipelined commands are
answered in order.  Not a test double of anything under test: the tests
check what reached it through the front and the home server.

    sink = SmtpSink("127.0.0.124", port); ...; sink.messages; sink.stop()
"""
import threading

from tcp_listener import TcpListener


class SmtpSink(TcpListener):
    def __init__(self, addr, port, hostname="sink.lab.test"):
        self.hostname = hostname
        self.messages = []  # [{"from": str, "rcpt": [str], "data": bytes, "peer": (ip, port)}]
        self.lock = threading.Lock()
        super().__init__(addr, port)

    def handle(self, c, peer):
        f = c.makefile("rb")

        def reply(text):
            c.sendall(text.encode() + b"\r\n")
        try:
            reply("220 %s ESMTP lab sink" % self.hostname)
            mail_from, rcpts = None, []
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    reply("250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10000000"
                          % self.hostname if verb == "EHLO" else "250 %s" % self.hostname)
                elif verb == "MAIL":
                    mail_from, rcpts = cmd[5:].strip(), []
                    reply("250 2.1.0 Ok")
                elif verb == "RCPT":
                    rcpts.append(cmd[5:].strip())
                    reply("250 2.1.5 Ok")
                elif verb == "DATA":
                    reply("354 End data with <CR><LF>.<CR><LF>")
                    data = []
                    while True:
                        dl = f.readline()
                        if not dl or dl in (b".\r\n", b".\n"):
                            break
                        data.append(dl[1:] if dl.startswith(b"..") else dl)
                    with self.lock:
                        self.messages.append({"from": mail_from, "rcpt": rcpts,
                                              "data": b"".join(data), "peer": peer})
                    reply("250 2.0.0 Ok: queued")
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    reply("250 2.0.0 Ok")
                elif verb == "NOOP":
                    reply("250 2.0.0 Ok")
                elif verb == "QUIT":
                    reply("221 2.0.0 Bye")
                    return
                else:
                    reply("502 5.5.2 Command not recognized")
        except OSError:
            return
        finally:
            c.close()
