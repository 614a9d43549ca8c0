"""One Dovecot instance of the loopback lab: its directory, configuration,
users, Maildirs, start and stop.

Layout of an instance directory (<labdir>/<name>/):
    dovecot.conf   rendered from tests/lab/conf/dovecot.conf.in (Dovecot 2.3)
                   or tests/lab/conf/2.4/dovecot.conf.in (Dovecot 2.4)
    passwd         passwd-file passdb (every lab user, same passwords everywhere)
    run/ state/    base_dir, state_dir
    log/           dovecot.log (Dovecot's own log), stdout.log (master's stdout/stderr)
    mail/<user>/Maildir
"""
import base64
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import lab_process  # noqa: E402
from dovecot_version import dovecot_version, is_24, version_label  # noqa: E402,F401
from lab_process import LabError  # noqa: E402

CONF_DIR = os.path.join(HERE, "conf")
MAIL_UID = MAIL_GID = 65534  # the static userdb's uid/gid (nobody/nogroup)
# sockaddr_un.sun_path is 108 bytes; Dovecot's longest socket name under
# base_dir is about 30 bytes.
MAX_BASE_DIR = 75


# ---------------------------------------------------------------- versions
# One lab for two configuration languages: Dovecot 2.4 renamed or restructured
# most settings the lab writes (named passdb/userdb blocks, boolean lists,
# import_environment {}, no plugin {}).  The running Dovecot decides which
# templates and snippets are written; everything else in the lab and in the
# tests is the same on both.

def conf_template(name):
    """Path of a lab template for the running Dovecot: conf/2.4/<name> on 2.4
    when it exists there (a template without a 2.4 copy, such as our own
    settings file, is version-free), conf/<name> otherwise."""
    if is_24():
        p = os.path.join(CONF_DIR, "2.4", name)
        if os.path.exists(p):
            return p
    return os.path.join(CONF_DIR, name)


def conf_import_environment(values):
    """Adds KEY=value pairs to the environment Dovecot passes to its
    services, keeping Dovecot's defaults."""
    if is_24():
        return "import_environment {\n%s}\n" % "".join(
            "  %s = %s\n" % (k, v) for k, v in values.items())
    return "import_environment = $import_environment %s\n" % " ".join(
        "%s=%s" % kv for kv in values.items())


def conf_public_namespace(name, prefix, path):
    """A public Maildir namespace with "/" as separator."""
    location = ("  mail_driver = maildir\n  mail_path = %s\n" % path if is_24()
                else "  location = maildir:%s\n" % path)
    return ("namespace %s {\n  type = public\n  separator = /\n  prefix = %s\n%s"
            "  subscriptions = no\n  list = yes\n}\n" % (name, prefix, location))


def conf_master_passdb(path):
    """A master-user passdb (passwd-file at path): a master user logs in as
    any user with SASL PLAIN's authorization identity (what the front's
    mailbox relay does, docs/mailbox-relay.md)."""
    if is_24():
        return ("passdb relay-master {\n  driver = passwd-file\n  master = yes\n"
                "  passwd_file_path = %s\n  default_password_scheme = PLAIN\n}\n" % path)
    return ("passdb {\n  driver = passwd-file\n  master = yes\n"
            "  args = scheme=PLAIN username_format=%%u %s\n}\n" % path)


def conf_inet_listener(name, addr, port):
    """One more imap-login listener (inside `service imap-login {}`)."""
    key = "listen" if is_24() else "address"
    return "  inet_listener %s {\n    %s = %s\n    port = %d\n  }\n" % (name, key, addr, port)


# Protocols besides IMAP a lab instance may serve (issue 14): protocol ->
# (service that owns the listener, listener name, TLS-only listener to turn
# off so that nothing binds a standard port).  Rows may be added here.
PROTOCOL_SERVICES = {
    "pop3": ("pop3-login", "pop3", "pop3s"),
    "lmtp": ("lmtp", "lmtp", None),
}


def conf_protocol_services(addr, ports, extra=""):
    """`protocols` plus inet listeners on addr for each protocol of ports,
    for the @SERVICES@ slot of dovecot.conf.in; extra is appended (e.g.
    lmtp_proxy = yes).  ports: {"pop3": port, ...}, or a protocol's value is
    a list of (listener name, port) for several listeners."""
    if not ports:
        return extra
    names = [n for n in PROTOCOL_SERVICES if n in ports]
    unknown = sorted(set(ports) - set(names))
    if unknown:
        raise LabError("no lab listener for protocol(s) %s" % " ".join(unknown))
    key = "listen" if is_24() else "address"
    if is_24():
        out = "protocols {\n%s}\n" % "".join("  %s = yes\n" % n for n in names)
    else:
        out = "protocols = $protocols %s\n" % " ".join(names)
    for name in names:
        service, listener, tls_listener = PROTOCOL_SERVICES[name]
        wanted = ports[name] if isinstance(ports[name], list) else [(listener, ports[name])]
        out += "service %s {\n" % service
        for lname, port in wanted:
            out += "  inet_listener %s {\n    %s = %s\n    port = %d\n  }\n" % (
                lname, key, addr, port)
        if tls_listener:
            out += "  inet_listener %s {\n    port = 0\n  }\n" % tls_listener
        out += "}\n"
    return out + extra


def conf_login_plugin(plugin_dir, settings_file):
    """Loads the referral login plugin from plugin_dir and tells it where the
    shared settings file is: on 2.3 through the environment of the login
    processes, on 2.4 through our settings module's referral_config."""
    if is_24():
        return ("login_plugin_dir = %s\nlogin_plugins {\n  referral_login = yes\n}\n"
                "referral_config = %s\n" % (plugin_dir, settings_file))
    return ("login_plugin_dir = %s\nlogin_plugins = referral_login\n" % plugin_dir
            + conf_import_environment({"DOVECOT_REFERRAL_CONFIG": settings_file}))


def conf_mail_plugin(plugin_dir, settings_file):
    """Loads the referral imap plugin (protocol imap) from plugin_dir."""
    if is_24():
        return ("mail_plugin_dir = %s\nprotocol imap {\n  mail_plugins {\n"
                "    imap_referral = yes\n  }\n}\nreferral_config = %s\n"
                % (plugin_dir, settings_file))
    return ("mail_plugin_dir = %s\nprotocol imap {\n  mail_plugins = $mail_plugins imap_referral\n}\n"
            "plugin {\n  referral_config = %s\n}\n" % (plugin_dir, settings_file))


def conf_passdb_referral(settings_file, chain_lines):
    """The passdb referral block; chain_lines are its skip/result_* lines
    (each indented by two spaces, newline-separated)."""
    if is_24():
        return ("passdb referral {\n  driver = referral\n  referral_config = %s\n%s\n}\n"
                % (settings_file, chain_lines))
    return "passdb {\n  driver = referral\n  args = %s\n%s\n}\n" % (settings_file, chain_lines)


def conf_metric(name, event, group_by=()):
    """A statistics metric over one event name, grouped by fields."""
    body = "  filter = event=%s\n" % event
    if group_by:
        if is_24():
            body += "".join("  group_by %s {\n  }\n" % f for f in group_by)
        else:
            body += "  group_by = %s\n" % " ".join(group_by)
    return "metric %s {\n%s}\n" % (name, body)


def render(template_path, values, out_path=None):
    """Replaces every @KEY@ of the template; an @WORD@ left over is an error
    (a template variable the lab does not know)."""
    with open(template_path, "r", encoding="utf-8") as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("@%s@" % key, str(value))
    left = sorted(set(re.findall(r"@[A-Z][A-Z0-9_]*@", text)))
    if left:
        raise LabError("%s: unknown template variables %s" % (template_path, " ".join(left)))
    if out_path:
        with open(out_path, "w", encoding="utf-8") as f:
            f.write(text)
    return text


def mutf7_encode(name):
    """RFC 3501 modified UTF-7, for Maildir folder names on disk."""
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b.replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def _write_message(maildir, n, subject, body, sender="lab@example.test"):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    msg = ("From: %s\r\nTo: lab@example.test\r\nSubject: %s\r\n"
           "Date: Sun, 22 Nov 2026 00:00:00 +0000\r\nMessage-ID: <lab-%d-%s@example.test>\r\n\r\n%s\r\n"
           % (sender, subject, n, abs(hash(maildir)) % 100000, body))
    name = "%d.M%dP%d.lab" % (1795000000 + n, n, os.getpid())
    with open(os.path.join(maildir, "new", name), "w", encoding="utf-8", newline="") as f:
        f.write(msg)


def _chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.chown(os.path.join(root, n), uid, gid)


def check_traversable(path):
    """The mail processes run as MAIL_UID: every ancestor of the lab dir must
    be searchable by others, or every login fails with a permission error."""
    p = os.path.abspath(path)
    while True:
        st = os.stat(p)
        if not (st.st_mode & 0o001) and st.st_uid != MAIL_UID:
            raise LabError("%s is not searchable by uid %d (mode %o): the lab's mail processes "
                           "could not reach their Maildirs; use a --dir below a world-searchable "
                           "directory or chmod o+x %s" % (p, MAIL_UID, st.st_mode & 0o777, p))
        parent = os.path.dirname(p)
        if parent == p:
            return
        p = parent


class DovecotInstance:
    def __init__(self, name, directory, addr, port, users):
        self.name = name
        self.dir = os.path.abspath(directory)
        self.addr = addr
        self.port = port
        self.users = users  # [(name, password)]
        self.proc = None
        self.pid = None
        if len(os.path.join(self.dir, "run")) > MAX_BASE_DIR:
            raise LabError("lab dir too long for Dovecot's UNIX sockets: %s (max %d chars); "
                           "use a shorter --dir" % (self.dir, MAX_BASE_DIR - len("/xxxxx/run")))

    @property
    def conf(self):
        return os.path.join(self.dir, "dovecot.conf")

    @property
    def log(self):
        return os.path.join(self.dir, "log", "dovecot.log")

    @property
    def stdout_log(self):
        return os.path.join(self.dir, "log", "stdout.log")

    def maildir(self, user, mailbox=None):
        base = os.path.join(self.dir, "mail", user, "Maildir")
        if not mailbox:
            return base
        return os.path.join(base, "." + mutf7_encode(mailbox).replace("/", "."))

    def prepare(self, trusted="", namespaces="", listeners="", include="", services=""):
        for sub in ("run", "state", "log", "mail"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        render(conf_template("dovecot.conf.in"), {
            "NAME": self.name, "DIR": self.dir, "ADDR": self.addr, "PORT": self.port,
            "TRUSTED": trusted, "NAMESPACES": namespaces, "LISTENERS": listeners,
            "INCLUDE": include, "SERVICES": services,
        }, self.conf)
        with open(os.path.join(self.dir, "passwd"), "w", encoding="utf-8") as f:
            for user, password in self.users:
                f.write("%s:{PLAIN}%s::::::\n" % (user, password))
        os.chmod(os.path.join(self.dir, "passwd"), 0o644)
        for i, (user, _) in enumerate(self.users):
            _write_message(self.maildir(user), i, "Welcome to %s's INBOX on %s" % (user, self.name),
                           "This message lives on the lab server %s (%s:%d)."
                           % (self.name, self.addr, self.port))

    def add_mailbox(self, user, mailbox, subject):
        path = self.maildir(user, mailbox)
        _write_message(path, 100, subject, "Mailbox %s of %s on %s." % (mailbox, user, self.name))
        open(os.path.join(path, "maildirfolder"), "a").close()

    def add_public_mailbox(self, root, mailbox, subject):
        path = os.path.join(root, "." + mutf7_encode(mailbox).replace("/", "."))
        _write_message(path, 200, subject, "Public mailbox %s on %s." % (mailbox, self.name))
        open(os.path.join(path, "maildirfolder"), "a").close()

    def finish_prepare(self, extra_trees=()):
        _chown_tree(os.path.join(self.dir, "mail"), MAIL_UID, MAIL_GID)
        for t in extra_trees:
            _chown_tree(t, MAIL_UID, MAIL_GID)

    def validate(self):
        p = subprocess.run(["doveconf", "-n", "-c", self.conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        if p.returncode != 0:
            raise LabError("doveconf rejects %s:\n%s" % (self.conf, p.stdout.decode("utf-8", "replace")))

    def start_unchecked(self):
        """Starts Dovecot without waiting for its greeting: for a test whose
        point is a service that stops at start-up (start() rightly refuses a
        Dovecot whose service logs a Fatal then).  stop() as usual."""
        self.validate()
        self.proc = lab_process.spawn(["dovecot", "-F", "-c", self.conf], self.stdout_log)
        self.pid = self.proc.pid

    def start(self, timeout=20.0):
        self.start_unchecked()
        try:
            lab_process.wait_imap_greeting(self.addr, self.port, self.proc, timeout, self.describe,
                                           fatal_log=self.log)
        except LabError as e:
            self.stop()
            raise LabError("dovecot %s (%s:%d): %s" % (self.name, self.addr, self.port, e))

    def describe(self):
        return lab_process.log_tail(self.log) + "\n" + lab_process.log_tail(self.stdout_log, 10)

    def stop(self, timeout=10.0):
        left = lab_process.stop_group(self.pid, timeout)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=1)
            except Exception:
                pass
        return left
