#!/usr/bin/env python3
"""Throwaway OpenLDAP server for dovecot-referral tests.

Importable (class SlapdServer) and a command line tool:

    slapd_server.py start --dir D --addr 127.0.0.x [--port P] [--ldif F ...]
                          [--tls [--tls-port P]]
    slapd_server.py stop --dir D
    slapd_server.py status --dir D

The server is bootstrapped from nothing in D: cn=config is written with
slapadd -n0 (schemas core, cosine, inetorgperson, nis, misc and our own
ldap/schema/imapreferral.ldif), one mdb database for dc=example,dc=test with
rootdn cn=admin,dc=example,dc=test, and the suffix entry.  slapd runs in the
foreground (-d 0) in its own process group, so stop()/kill() can always take
it down with everything it started.  `start` writes D/slapd.json (uri, pid,
root dn and password ...) and prints the URI.

With --tls (decided when D is first bootstrapped) a throwaway CA and a server
certificate for the address are made with openssl in D/tls; slapd then
offers StartTLS on ldap:// and also listens on ldaps://addr:tls_port/.  The
CA file is D/tls/ca.pem ("ca_file" in slapd.json).

Only the Python standard library is used.  Every failure cleans up the
process it started before raising.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slapd_bootstrap  # noqa: E402

SUFFIX = "dc=example,dc=test"
ROOT_DN = "cn=admin,dc=example,dc=test"
ROOT_PASSWORD = "dref-test-secret"
CONFIG_ROOT_DN = "cn=admin,cn=config"

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_SCHEMA = os.path.normpath(os.path.join(HERE, "..", "..", "ldap", "schema",
                                               "imapreferral.ldif"))
SLAPD = os.environ.get("SLAPD", "/usr/sbin/slapd")
SLAPADD = os.environ.get("SLAPADD", "/usr/sbin/slapadd")
STATE_FILE = "slapd.json"
# sockaddr_un.sun_path is 108 bytes on Linux.
MAX_SOCKET_PATH = 100


class SlapdError(RuntimeError):
    pass


def free_port(addr):
    """A port that was free on addr a moment ago (bind port 0, read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def _ldif_escape_path(path):
    return path.replace("%", "%25").replace("/", "%2F").replace(",", "%2C")


class SlapdServer:
    """One slapd instance living in `directory`.

    Attributes: uri (ldap://addr:port/), ldapi_uri, addr, port, suffix,
    root_dn, root_password, pid.
    """

    suffix = SUFFIX
    root_dn = ROOT_DN
    root_password = ROOT_PASSWORD
    config_root_dn = CONFIG_ROOT_DN

    def __init__(self, directory, addr="127.0.0.1", port=None, schema_ldif=PROJECT_SCHEMA,
                 ready_timeout=15.0, tls=False, tls_port=None):
        self.directory = os.path.abspath(directory)
        self.addr = addr
        self.port = port
        self.tls = tls
        self.tls_port = tls_port
        self.schema_ldif = schema_ldif
        self.ready_timeout = ready_timeout
        self.proc = None
        self.pid = None
        self._socket_dir = None
        self._bootstrapped = False

    # ------------------------------------------------------------------ paths
    @property
    def uri(self):
        return "ldap://%s:%d/" % (self.addr, self.port)

    @property
    def ldaps_uri(self):
        return "ldaps://%s:%d/" % (self.addr, self.tls_port) if self.tls else None

    @property
    def ca_file(self):
        return os.path.join(self.directory, "tls", "ca.pem") if self.tls else None

    @property
    def ldapi_path(self):
        path = os.path.join(self.directory, "ldapi")
        if len(path) <= MAX_SOCKET_PATH:
            return path
        # Too long for sun_path: a short private directory, made on start.
        return os.path.join(self._socket_dir or "/nonexistent", "ldapi")

    def _make_socket_dir(self):
        path = os.path.join(self.directory, "ldapi")
        if len(path) > MAX_SOCKET_PATH and self._socket_dir is None:
            self._socket_dir = tempfile.mkdtemp(prefix="dref-ldapi-")

    @property
    def ldapi_uri(self):
        return "ldapi://" + _ldif_escape_path(self.ldapi_path) + "/"

    @property
    def log_path(self):
        return os.path.join(self.directory, "slapd.log")

    # -------------------------------------------------------------- bootstrap
    def _bootstrap(self):
        os.makedirs(os.path.join(self.directory, "data"), exist_ok=True)
        confdir = os.path.join(self.directory, "slapd.d")
        if os.path.isdir(confdir) and os.listdir(confdir):
            self._bootstrapped = True
            return
        os.makedirs(confdir, exist_ok=True)
        if self.tls:
            slapd_bootstrap.make_certificates(os.path.join(self.directory, "tls"), self.addr,
                                              self._run)
        config = os.path.join(self.directory, "config.ldif")
        with open(config, "w", encoding="utf-8") as f:
            f.write(slapd_bootstrap.config_ldif(
                self.directory, self.schema_ldif, self.tls,
                database={"suffix": SUFFIX, "root_dn": ROOT_DN, "root_password": ROOT_PASSWORD,
                          "config_root_dn": CONFIG_ROOT_DN}))
        self._run([SLAPADD, "-n0", "-F", confdir, "-l", config], "slapadd -n0")
        base = os.path.join(self.directory, "base.ldif")
        with open(base, "w", encoding="utf-8") as f:
            f.write("dn: %s\nobjectClass: dcObject\nobjectClass: organization\n"
                    "dc: example\no: dovecot-referral tests\n" % SUFFIX)
        self._run([SLAPADD, "-n1", "-F", confdir, "-l", base], "slapadd -n1")
        self._bootstrapped = True

    @staticmethod
    def _run(argv, what, stdin=None):
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        if p.returncode != 0:
            raise SlapdError("%s failed (rc %d): %s" % (what, p.returncode,
                                                        p.stdout.decode("utf-8", "replace")))
        return p

    # -------------------------------------------------------------- lifecycle
    def start(self, ldif_files=()):
        """Bootstraps (first time), starts slapd, waits until it answers and
        loads ldif_files.  Raises SlapdError; never leaves a process behind."""
        if self.running():
            raise SlapdError("slapd already running (pid %d)" % self.pid)
        try:
            if not self._bootstrapped:
                self._bootstrap()
            if self.port is None:
                self.port = free_port(self.addr)
            if self.tls and self.tls_port is None:
                self.tls_port = free_port(self.addr)
            self._spawn()
            self._wait_ready()
            for f in ldif_files:
                self.add_ldif(f)
            self._write_state()
        except BaseException:
            self.kill()
            self._remove_socket_dir()
            raise
        return self

    def _spawn(self):
        self._make_socket_dir()
        try:
            os.unlink(self.ldapi_path)
        except FileNotFoundError:
            pass
        log = open(self.log_path, "ab")
        try:
            # -d 0: stay in the foreground without debug output; own session so
            # the whole group can be signalled.
            self.proc = subprocess.Popen(
                [SLAPD, "-d", "0", "-F", os.path.join(self.directory, "slapd.d"),
                 "-h", " ".join(u for u in (self.uri, self.ldaps_uri, self.ldapi_uri) if u)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        self.pid = self.proc.pid

    def _log_tail(self, n=20):
        try:
            with open(self.log_path, "r", encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def _wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SlapdError("slapd exited with %d during start-up:\n%s"
                                 % (self.proc.returncode, self._log_tail()))
            try:
                with socket.create_connection((self.addr, self.port), timeout=0.5):
                    pass
                p = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", self.uri,
                                    "-o", "nettimeout=2", "-l", "2", "-b", "", "-s", "base",
                                    "namingContexts"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=max(0.5, min(2.0, deadline - time.monotonic())))
                if p.returncode == 0:
                    return
            except (OSError, subprocess.TimeoutExpired):
                pass
            time.sleep(0.05)
        raise SlapdError("slapd did not answer on %s within %.0fs:\n%s"
                         % (self.uri, self.ready_timeout, self._log_tail()))

    def running(self):
        if self.proc is not None:
            return self.proc.poll() is None
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _is_zombie(self.pid)

    def _signal_group(self, sig):
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=0.05)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not self.running():
                return True
            time.sleep(0.05)
        return False

    def stop(self, timeout=5.0):
        """SIGTERM (after SIGCONT in case it was paused); SIGKILL if it lingers."""
        if self.pid is None:
            return
        self._signal_group(signal.SIGCONT)
        self._signal_group(signal.SIGTERM)
        if not self._wait_exit(timeout):
            self._signal_group(signal.SIGKILL)
            self._wait_exit(timeout)
        self._forget()

    def kill(self):
        """SIGKILL the whole process group, as a crash would."""
        if self.pid is None:
            return
        self._signal_group(signal.SIGKILL)
        self._wait_exit(5.0)
        self._forget()

    def _forget(self):
        self.proc = None
        self.pid = None
        self._write_state()

    def pause(self):
        """SIGSTOP: the socket stays open but nothing answers."""
        self._signal_group(signal.SIGSTOP)

    def resume(self):
        self._signal_group(signal.SIGCONT)

    def cleanup(self):
        """Stops the server and removes the temporary socket directory (the
        data directory is left to its owner)."""
        self.stop()
        self._remove_socket_dir()

    def _remove_socket_dir(self):
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        self._write_state()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # ------------------------------------------------------------------ state
    def state(self):
        return {
            "dir": self.directory, "addr": self.addr, "port": self.port, "uri": self.uri,
            "ldapi_uri": self.ldapi_uri, "pid": self.pid, "suffix": SUFFIX,
            "root_dn": ROOT_DN, "root_password": ROOT_PASSWORD,
            "config_root_dn": CONFIG_ROOT_DN, "socket_dir": self._socket_dir,
            "log": self.log_path, "tls": self.tls, "tls_port": self.tls_port,
            "ldaps_uri": self.ldaps_uri, "ca_file": self.ca_file,
        }

    def _write_state(self):
        if not os.path.isdir(self.directory):
            return
        path = os.path.join(self.directory, STATE_FILE)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self.state(), f, indent=1)
        os.replace(path + ".tmp", path)

    @classmethod
    def from_state(cls, directory):
        path = os.path.join(os.path.abspath(directory), STATE_FILE)
        with open(path, "r", encoding="utf-8") as f:
            st = json.load(f)
        srv = cls(st["dir"], st["addr"], st["port"], tls=st.get("tls", False),
                  tls_port=st.get("tls_port"))
        srv.pid = st.get("pid")
        srv._socket_dir = st.get("socket_dir")
        srv._bootstrapped = True
        return srv

    # ------------------------------------------------------------------- data
    def _ldap_tool(self, tool, ldif, check, extra=(), bind_dn=None):
        """Runs ldapadd/ldapmodify with the root DN.  `ldif` is a path or
        LDIF text (str or bytes).  Returns (rc, output)."""
        argv = [tool, "-x", "-H", self.uri, "-D", bind_dn or ROOT_DN, "-w", ROOT_PASSWORD,
                "-o", "nettimeout=5"] + list(extra)
        stdin = None
        if isinstance(ldif, bytes):
            stdin = ldif
        elif "\n" in ldif or ldif.startswith("dn:"):
            stdin = ldif.encode("utf-8")
        else:
            argv += ["-f", ldif]
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
        out = p.stdout.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise SlapdError("%s failed (rc %d): %s" % (tool, p.returncode, out))
        return p.returncode, out

    def add_ldif(self, ldif, check=True):
        """ldapadd of a file path or LDIF text.  Returns (rc, output); rc is
        the LDAP result code (e.g. 19 constraintViolation) when check=False."""
        return self._ldap_tool("ldapadd", ldif, check)

    def modify(self, ldif, check=True):
        """ldapmodify (changetype defaults to modify per LDIF)."""
        return self._ldap_tool("ldapmodify", ldif, check)

    def modify_config(self, ldif, check=True):
        """ldapmodify against cn=config (e.g. to add an index)."""
        return self._ldap_tool("ldapmodify", ldif, check, bind_dn=CONFIG_ROOT_DN)

    def delete(self, dn, check=True):
        p = subprocess.run(["ldapdelete", "-x", "-H", self.uri, "-D", ROOT_DN, "-w",
                            ROOT_PASSWORD, "-o", "nettimeout=5", dn],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise SlapdError("ldapdelete failed (rc %d): %s" % (p.returncode, out))
        return p.returncode, out

    def search(self, base=SUFFIX, filt="(objectClass=*)", attrs=()):
        """ldapsearch as the root DN; returns the LDIF output."""
        p = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", self.uri, "-D", ROOT_DN, "-w",
                            ROOT_PASSWORD, "-o", "nettimeout=5", "-o", "ldif-wrap=no",
                            "-b", base, filt] + list(attrs),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            raise SlapdError("ldapsearch failed (rc %d): %s" % (p.returncode, out))
        return out


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid, "r") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def main(argv=None):
    ap = argparse.ArgumentParser(prog="slapd_server.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start", help="bootstrap (if needed) and start slapd")
    st.add_argument("--dir", required=True)
    st.add_argument("--addr", default="127.0.0.1")
    st.add_argument("--port", type=int)
    st.add_argument("--ldif", action="append", default=[])
    st.add_argument("--schema", default=PROJECT_SCHEMA, help="our schema in cn=config LDIF form")
    st.add_argument("--tls", action="store_true",
                    help="make a test CA and certificate; StartTLS and ldaps://")
    st.add_argument("--tls-port", type=int)
    for name in ("stop", "kill", "pause", "resume", "status"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "start":
            os.makedirs(args.dir, exist_ok=True)
            srv = SlapdServer(args.dir, args.addr, args.port, schema_ldif=args.schema,
                              tls=args.tls, tls_port=args.tls_port)
            state_path = os.path.join(srv.directory, STATE_FILE)
            if os.path.exists(state_path):
                old = SlapdServer.from_state(args.dir)
                if old.running():
                    raise SlapdError("already running in %s (pid %d)" % (args.dir, old.pid))
                if args.port is None and old.addr == args.addr:
                    srv.port = old.port  # restart on the same port(s)
                if old.tls:
                    srv.tls = True
                    srv.tls_port = args.tls_port or old.tls_port
            srv.start(args.ldif)
            # Detach: slapd lives on in its own session after we exit.
            srv.proc = None
            print(srv.uri)
            return 0
        srv = SlapdServer.from_state(args.dir)
        if args.cmd == "stop":
            srv.cleanup()
        elif args.cmd == "kill":
            srv.kill()
        elif args.cmd == "pause":
            srv.pause()
        elif args.cmd == "resume":
            srv.resume()
        elif args.cmd == "status":
            print("%s %s" % ("running" if srv.running() else "stopped", srv.uri))
            return 0 if srv.running() else 3
        return 0
    except FileNotFoundError as e:
        print("slapd_server.py: %s" % e, file=sys.stderr)
        return 2
    except (SlapdError, OSError, subprocess.SubprocessError) as e:
        print("slapd_server.py: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
