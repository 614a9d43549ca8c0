#!/usr/bin/env python3
"""The loopback lab: a slapd, a front Dovecot and two home Dovecots on
127.0.0.x, each with its own directory under the lab dir.

    python3 tests/lab/lab.py start  [--dir DIR] [--addr-base N] [--plugins none|build|installed]
                                    [--build-dir B]
    python3 tests/lab/lab.py status [--dir DIR]
    python3 tests/lab/lab.py stop   [--dir DIR]

Addresses: front 127.0.0.N, home1 N+1, home2 N+2, slapd N+3 (N = --addr-base,
default 2).  `start` writes <dir>/lab.env (shell-sourceable; docs/lab.md lists
every key) and <dir>/lab.json (the same, for Python), and prints the env
file's path.  `stop` ends every process group it started and fails loudly if
anything of the lab is still running.  Importable: Lab(...).start()/stop(),
read_env(path).  Run as root (Dovecot's login processes chroot).
"""
import argparse
import json
import os
import shlex
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "support"))

import lab_process  # noqa: E402
import lab_dovecot  # noqa: E402
import lab_tls  # noqa: E402
from lab_dovecot import MAIL_GID, MAIL_UID, DovecotInstance, check_traversable, render  # noqa: E402
from lab_process import LabError  # noqa: E402

CONF_DIR = os.path.join(HERE, "conf")
# conf/<name> is written for Dovecot 2.3, conf/2.4/<name> for 2.4
# (lab_dovecot.conf_template picks by the running Dovecot's version).
REFERRAL_TEMPLATE_NAME = "front-referral.conf.in"
SETTINGS_TEMPLATE = os.path.join(CONF_DIR, "dovecot-referral.conf.ext.in")
LDIF_TEMPLATE = os.path.join(HERE, "lab.ldif")
# Dovecot loads passdb drivers only from its compiled-in AUTH_MODULE_DIR.
AUTH_MODULE_DIR = "/usr/lib/dovecot/modules/auth"
AUTH_MODULE = "libauthdb_referral.so"
# Dovecot 2.4's config parser loads settings modules only from its
# compiled-in <moduledir>/settings: ours registers referral_config.
SETTINGS_MODULE_DIR = "/usr/lib/dovecot/modules/settings"
SETTINGS_MODULE = "libdovecot_referral_settings.so"
LOGIN_MODULE = "lib95_referral_login_plugin.so"
MAIL_MODULE = "lib95_imap_referral_plugin.so"
INSTALLED_LOGIN_DIR = "/usr/lib/dovecot/modules/login"
INSTALLED_MAIL_DIR = "/usr/lib/dovecot/modules"
# The referral-directory service program (plugin/service): Dovecot's libexec dir.
SERVICE_PROGRAM = "referral-directory"
INSTALLED_LIBEXEC_DIR = "/usr/lib/dovecot"
STATE = "lab.json"
ENV = "lab.env"
LAB_PARTS = ("slapd", "front", "home1", "home2", "tls", "lab.ldif", ENV, STATE)

# role -> user; every user's password is "pw-<user>".
ROLES = {
    "HOME1": "alice",     # mailHost = home1
    "HOME2": "bob",       # mailHost = home2
    "LOCAL": "carol",     # mailHost = the front
    "BADHOST": "mallory",  # hostile mailHost (CR LF, "]")
    "NOHOME": "nancy",    # in the directory, no mailHost
    "REFER": "rita",      # imapReferralPolicy = refer, home1
    "PROXY": "percy",     # imapReferralPolicy = proxy, home2
    "UNLISTED": "dave",   # not in the directory at all
    "ROGUE": "olga",      # mailHost = rogue.example.org, outside allowed_hosts
}
USERS = [(u, "pw-" + u) for u in ROLES.values()]
# Policies with a front POP3 and LMTP listener of their own (listener_rule);
# the main POP3/LMTP listeners follow default_policy (proxy).
PROTOCOL_POLICY_LISTENERS = ("refer", "suggest", "proxy-suggest", "local")
# The home servers' master user: the front's mailbox relay logs in with it
# on behalf of the user (docs/mailbox-relay.md); not a user of its own.
RELAY_MASTER = ("dref-relay", "pw-dref-relay")
SHARED_MAILBOX = "Shared/Projects"
SHARED_MAILBOX_UTF8 = "Shared/Büro"
PERSONAL_MAILBOX = "Archive/2019"  # carol's, on home1


def policy_key(proto, policy):
    """ports/listener key of a policy listener: "pop3_refer", "lmtp_proxy_suggest"."""
    return "%s_%s" % (proto, policy.replace("-", "_"))


def read_env(path):
    """lab.env as a dict (values unquoted)."""
    env = {}
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            if key.startswith("export "):
                key = key[len("export "):]
            parts = shlex.split(value)
            env[key] = parts[0] if parts else ""
    return env


class Lab:
    def __init__(self, directory="lab-run", addr_base=2, plugins="none", build_dir=None,
                 settings_file=None, valgrind=False):
        if plugins not in ("none", "build", "installed"):
            raise LabError("--plugins must be none, build or installed")
        if not 1 <= addr_base <= 251:
            raise LabError("--addr-base must be 1..251 (uses 127.0.0.N..N+3)")
        self.dir = os.path.abspath(directory)
        self.addr_base = addr_base
        self.plugins = plugins
        self.build_dir = os.path.abspath(build_dir or os.path.join(REPO, "build"))
        # --settings-file: where the rendered settings go instead of the lab
        # dir; tests/packaging points it at the installed package's
        # /etc/dovecot/dovecot-referral.conf.ext (settings from /etc/dovecot).
        self.settings_path = os.path.abspath(settings_file) if settings_file else None
        # --valgrind: the front's auth and imap processes run under valgrind
        # (scripts/valgrind-lab.sh reads <dir>/front/valgrind/*.log).
        self.valgrind = valgrind
        self.addr = {k: "127.0.0.%d" % (addr_base + i)
                     for i, k in enumerate(("front", "home1", "home2", "slapd"))}
        self.state = {}

    # ------------------------------------------------------------ start
    def start(self):
        if os.geteuid() != 0:
            raise LabError("the lab runs Dovecot as root (login processes chroot): run as root")
        if os.path.exists(os.path.join(self.dir, STATE)):
            self.stop(quiet=True)
        for part in LAB_PARTS:
            p = os.path.join(self.dir, part)
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif os.path.exists(p):
                os.unlink(p)
        os.makedirs(self.dir, exist_ok=True)
        check_traversable(self.dir)
        t0 = time.monotonic()
        self.state = {"dir": self.dir, "plugins": self.plugins, "addr_base": self.addr_base,
                      "build_dir": self.build_dir, "pgids": {}, "module_links": [],
                      "dovecot": lab_dovecot.version_label()}
        try:
            self._start_all()
        except BaseException:
            left = self._stop_all()
            try:
                os.unlink(os.path.join(self.dir, STATE))
            except FileNotFoundError:
                pass
            if left:
                print("lab: after the failed start, still running:\n%s"
                      % "\n".join("  pid %d: %s" % pc for pc in left), file=sys.stderr)
            raise
        self.state["start_seconds"] = round(time.monotonic() - t0, 2)
        self._write_state()
        return self

    def _start_all(self):
        a = self.addr
        front_port = lab_process.pick_port([a["front"]])
        direct_port = lab_process.pick_port([a["front"]], taken={front_port})
        home_port = lab_process.pick_port([a["home1"], a["home2"]], taken={front_port, direct_port})
        # The homes' implicit-TLS IMAP port (their plain port offers STARTTLS).
        home_tls_port = lab_process.pick_port([a["home1"], a["home2"]],
                                              taken={front_port, direct_port, home_port})
        self.ports = {"front": front_port, "direct": direct_port, "home": home_port,
                      "home_tls": home_tls_port}
        # POP3 and LMTP (issue 14): one port each, the same on the front and
        # on both homes (home_pop3_port / home_lmtp_port of the settings).
        for proto in ("pop3", "lmtp"):
            self.ports[proto] = lab_process.pick_port([a["front"], a["home1"], a["home2"]],
                                                      taken=set(self.ports.values()))
        # The front's extra POP3 and LMTP listeners, one per policy (their
        # listener_rule); the main ones follow default_policy = proxy.
        for proto in ("pop3", "lmtp"):
            for policy in PROTOCOL_POLICY_LISTENERS:
                self.ports[policy_key(proto, policy)] = lab_process.pick_port(
                    [a["front"]], taken=set(self.ports.values()))
        self._write_state()  # from here on, stop() knows what to clean up

        try:
            import slapd_server
        except ImportError as e:
            raise LabError("cannot load tests/support/slapd_server.py (the throwaway slapd): %s" % e)
        slapd_dir = os.path.join(self.dir, "slapd")
        os.makedirs(slapd_dir)
        ldif = os.path.join(self.dir, "lab.ldif")
        render(LDIF_TEMPLATE, {"LDAP_BASE": slapd_server.SUFFIX, "FRONT_ADDR": a["front"],
                               "HOME1_ADDR": a["home1"], "HOME2_ADDR": a["home2"],
                               "HOME_PORT": home_port}, ldif)
        self.slapd = slapd_server.SlapdServer(slapd_dir, a["slapd"])
        self.state["pgids"]["slapd"] = None
        try:
            self.slapd.start([ldif])
        except slapd_server.SlapdError as e:
            raise LabError("slapd: %s" % e)
        self.state["pgids"]["slapd"] = self.slapd.pid
        self.state["slapd"] = {"uri": self.slapd.uri, "pid": self.slapd.pid,
                               "port": self.slapd.port, "log": self.slapd.log_path,
                               "base": slapd_server.SUFFIX, "admin_dn": slapd_server.ROOT_DN,
                               "admin_pw": slapd_server.ROOT_PASSWORD}
        self._write_state()

        # A test CA; each home presents a certificate for the names the
        # directory may give it (its address, homeN.lab.test).
        self.ca = lab_tls.make_ca(os.path.join(self.dir, "tls"))
        homes = {}
        for name in ("home1", "home2"):
            inst = DovecotInstance(name, os.path.join(self.dir, name), a[name], home_port, USERS)
            cert, key = lab_tls.make_cert(self.ca, name, ips=[a[name]], dns=[name + ".lab.test"])
            tls = dict(listeners=lab_tls.conf_tls_listener("imaps_lab", a[name], home_tls_port),
                       include=lab_tls.conf_tls_server(cert, key))
            home_services = lab_dovecot.conf_protocol_services(a[name], self._protocol_ports())
            extra = []
            namespaces = ""
            master_file = os.path.join(inst.dir, "master-users")
            # The relay's master user (docs/mailbox-relay.md) next to the TLS setup.
            tls["include"] += lab_dovecot.conf_master_passdb(master_file)
            if name == "home2":
                public = os.path.join(inst.dir, "public")
                namespaces = lab_dovecot.conf_public_namespace("shared", "Shared/", public)
                inst.prepare(trusted=a["front"], namespaces=namespaces, services=home_services, **tls)
                inst.add_public_mailbox(public, "Projects", "Shared project kick-off")
                inst.add_public_mailbox(public, "Büro", "Büro: Schlüssel abholen")
                extra.append(public)
            else:
                inst.prepare(trusted=a["front"], services=home_services, **tls)
                inst.add_mailbox(ROLES["LOCAL"], PERSONAL_MAILBOX, "carol's archived mail")
            with open(master_file, "w", encoding="utf-8") as f:
                f.write("%s:{PLAIN}%s::::::\n" % RELAY_MASTER)
            os.chmod(master_file, 0o644)
            inst.finish_prepare(extra)
            homes[name] = inst
        front = DovecotInstance("front", os.path.join(self.dir, "front"), a["front"], front_port,
                                USERS)
        settings = self.settings_path or os.path.join(front.dir, "dovecot-referral.conf.ext")
        os.makedirs(front.dir, exist_ok=True)
        # mailbox_cache_dir: written and read by the front's imap processes,
        # which run as the mail uid; private to it, as docs/security.md asks.
        self.mailbox_cache_dir = os.path.join(front.dir, "mailbox-cache")
        os.makedirs(self.mailbox_cache_dir)
        os.chown(self.mailbox_cache_dir, MAIL_UID, MAIL_GID)
        os.chmod(self.mailbox_cache_dir, 0o700)
        render(SETTINGS_TEMPLATE, {"LDAP_URI": self.slapd.uri, "LDAP_BASE": slapd_server.SUFFIX,
                                   "LDAP_ADMIN_DN": slapd_server.ROOT_DN,
                                   "LDAP_ADMIN_PW": slapd_server.ROOT_PASSWORD,
                                   "HOME_PORT": home_port, "FRONT_ADDR": a["front"],
                                   "HOME1_ADDR": a["home1"], "HOME2_ADDR": a["home2"],
                                   "DIRECT_PORT": direct_port}, settings)
        # Not in the template: the benchmark fronts render it too, each with
        # a cache directory of its own (or none).
        with open(settings, "a", encoding="utf-8") as f:
            f.write("# Each user's last remote-mailbox answer, for the user's next session\n"
                    "# within cache_ttl (tests/integration/mailbox/test_mailbox_cache_file.py).\n"
                    "mailbox_cache_dir = %s\n" % self.mailbox_cache_dir)
            f.write("# The homes' POP3 and LMTP ports (docs/protocols.md)\n"
                    "home_pop3_port = %d\nhome_lmtp_port = %d\n"
                    % (self.ports["pop3"], self.ports["lmtp"]))
            f.write("# One front POP3 and LMTP listener per policy (issue 14 tests)\n")
            for proto in ("pop3", "lmtp"):
                for policy in PROTOCOL_POLICY_LISTENERS:
                    f.write("listener_rule = %s %s:%d\n"
                            % (policy, a["front"], self.ports[policy_key(proto, policy)]))
            # The front's imap processes ask LDAP themselves unless a test
            # switches the referral-directory service on
            # (tests/integration/mailbox/test_directory_service.py).
            f.write("mailbox_directory_service =\n")
        os.chmod(settings, 0o644)
        self.settings_file = settings
        include = self._plugin_include(front, settings) if self.plugins != "none" else ""
        if self.valgrind:
            include += self._valgrind_include(front)
        # The front's proxies trust the lab CA (used when proxy_tls is set).
        include += "# the lab's test CA (tests/lab/lab_tls.py)\n" + lab_tls.conf_trust_ca(self.ca["cert"])
        listeners = ("  # second front listener; its listener_rule refers instead of proxying\n"
                     + lab_dovecot.conf_inet_listener("imap_direct", a["front"], direct_port))
        # The front delivers every recipient's mail to the recipient's home
        # server (lmtp_proxy: the passdb answers proxy/host/port per user).
        front_ports = {proto: [(proto, self.ports[proto])] + [
            (policy_key(proto, policy), self.ports[policy_key(proto, policy)])
            for policy in PROTOCOL_POLICY_LISTENERS] for proto in ("pop3", "lmtp")}
        services = lab_dovecot.conf_protocol_services(a["front"], front_ports, "lmtp_proxy = yes\n")
        front.prepare(listeners=listeners, include=include, services=services)
        front.finish_prepare()

        self.instances = dict(homes, front=front)
        for name in ("home1", "home2", "front"):
            inst = self.instances[name]
            self.state["pgids"][name] = None
            inst.start()
            self.state["pgids"][name] = inst.pid
            self._write_state()
        if self.plugins != "none":
            self._probe_front(front)

    def _protocol_ports(self):
        return {"pop3": self.ports["pop3"], "lmtp": self.ports["lmtp"]}

    def _plugin_include(self, front, settings):
        template = lab_dovecot.conf_template(REFERRAL_TEMPLATE_NAME)
        if not os.path.exists(template):
            raise LabError("--plugins %s: %s does not exist yet (owned by the auth plugin); "
                           "start the lab with --plugins none" % (self.plugins, template))
        if self.plugins == "build":
            built = {
                "auth": os.path.join(self.build_dir, "plugin", "auth", AUTH_MODULE),
                "login": os.path.join(self.build_dir, "plugin", "login", LOGIN_MODULE),
                "mail": os.path.join(self.build_dir, "plugin", "imap", MAIL_MODULE),
                "settings": os.path.join(self.build_dir, "plugin", "settings", SETTINGS_MODULE),
            }
            if not os.path.exists(built["auth"]):
                raise LabError("--plugins build: %s is not built (cmake --build %s)"
                               % (built["auth"], self.build_dir))
            if lab_dovecot.is_24() and not os.path.exists(built["settings"]):
                raise LabError("--plugins build: %s is not built (Dovecot 2.4 needs it for "
                               "referral_config; cmake --build %s)" % (built["settings"], self.build_dir))
            # Login and mail plugins come from lab-local directories of
            # symlinks into the build tree (login_plugin_dir, mail_plugin_dir).
            # One not built yet is left out: the template decides what loads,
            # and Dovecot names a missing plugin clearly in the front's log.
            login_dir = os.path.join(front.dir, "plugins", "login")
            mail_dir = os.path.join(front.dir, "plugins", "mail")
            for d, key, mod in ((login_dir, "login", LOGIN_MODULE), (mail_dir, "mail", MAIL_MODULE)):
                os.makedirs(d, exist_ok=True)
                if os.path.exists(built[key]):
                    os.symlink(built[key], os.path.join(d, mod))
                else:
                    print("lab: warning: %s is not built" % built[key], file=sys.stderr)
            if os.path.exists(built["mail"]):
                check_traversable(built["mail"])  # the imap process loads it as uid 65534
            if lab_dovecot.is_24():
                self._link_module(SETTINGS_MODULE_DIR, SETTINGS_MODULE, built["settings"])
            self._link_module(AUTH_MODULE_DIR, AUTH_MODULE, built["auth"])
            service = os.path.join(self.build_dir, "plugin", "service", SERVICE_PROGRAM)
            if not os.path.exists(service):
                print("lab: warning: %s is not built" % service, file=sys.stderr)
        else:
            login_dir, mail_dir = INSTALLED_LOGIN_DIR, INSTALLED_MAIL_DIR
            installed = [os.path.join(AUTH_MODULE_DIR, AUTH_MODULE),
                         os.path.join(login_dir, LOGIN_MODULE), os.path.join(mail_dir, MAIL_MODULE)]
            if lab_dovecot.is_24():
                installed.append(os.path.join(SETTINGS_MODULE_DIR, SETTINGS_MODULE))
            service = os.path.join(INSTALLED_LIBEXEC_DIR, SERVICE_PROGRAM)
            installed.append(service)
            for p in installed:
                if not os.path.exists(p):
                    raise LabError("--plugins installed: %s is missing (package not installed?)" % p)
        out = os.path.join(front.dir, "referral.conf")
        render(template, {
            "SETTINGS_FILE": settings, "LOGIN_PLUGIN_DIR": login_dir, "MAIL_PLUGIN_DIR": mail_dir,
            "LDAP_URI": self.slapd.uri, "FRONT_ADDR": self.addr["front"],
            "FRONT_PORT": self.ports["front"], "DIRECT_PORT": self.ports["direct"],
            "HOME_PORT": self.ports["home"], "LAB_DIR": self.dir,
            "DIRECTORY_SERVICE": service,
        }, out)
        return "# dovecot-referral plugins (rendered from %s)\n!include %s\n" % (
            os.path.relpath(template, REPO), out)

    def _valgrind_include(self, front):
        logs = os.path.join(front.dir, "valgrind")
        os.makedirs(logs, exist_ok=True)
        os.chmod(logs, 0o1777)  # auth runs as dovecot, imap as the mail uid
        opts = ("-q --vgdb=no --num-callers=40 --leak-check=full --show-leak-kinds=definite "
                "--errors-for-leak-kinds=definite --child-silent-after-fork=yes")
        # GDB=1: Dovecot then skips dlclose() of modules at exit, so valgrind
        # can still name the frames of our plugins in its leak reports.
        out = "# --valgrind (scripts/valgrind-lab.sh)\n" + lab_dovecot.conf_import_environment({"GDB": 1})
        for service, binary in (("auth", "/usr/lib/dovecot/auth"), ("imap", "/usr/lib/dovecot/imap")):
            out += ("service %s {\n  executable = /usr/bin/valgrind %s --log-file=%s/%s.%%p.log %s\n}\n"
                    % (service, opts, logs, service, binary))
        return out

    def _link_module(self, module_dir, name, target):
        """Links a module of the build (the passdb driver; on 2.4 also the
        settings module) into Dovecot's compiled-in module_dir.  Another
        lab's link (another build tree) is replaced, and put back at stop if
        that lab is still using it, so parallel labs of different build trees
        do not strand each other."""
        link = os.path.join(module_dir, name)
        previous = None
        if os.path.islink(link):
            current = os.readlink(link)
            if current != target:
                print("lab: replacing %s -> %s (was -> %s)"
                      % (link, target, current), file=sys.stderr)
                previous = current
                os.unlink(link)
        elif os.path.exists(link):
            raise LabError("%s is a regular file (the installed package's driver?): the lab will not "
                           "overwrite it; remove the package or use --plugins installed" % link)
        if not os.path.islink(link):
            os.makedirs(module_dir, exist_ok=True)
            os.symlink(target, link)
        self.state["module_links"].append({"link": link, "target": target, "previous": previous})
        self._write_state()

    def _probe_front(self, front):
        """One local login, so the auth process starts now and loads the
        passdb driver: a driver that cannot load or rejects its settings
        (a Fatal in the log) fails the start here, not in the first test.
        A login that merely fails is only a warning."""
        from imap_client import ImapClient, ImapError
        user = ROLES["LOCAL"]
        try:
            c = ImapClient.connect(front.addr, front.port, timeout=10)
            _, tagged = c.login("p1", user, "pw-" + user)
            c.logout()
        except (OSError, ImapError) as e:
            tagged = ("no answer: %s" % e).encode()
        if lab_process.has_fatal(front.log):
            raise LabError("the front's auth/login/imap side failed after the plugins loaded "
                           "(probe login of %s: %s)\n%s"
                           % (user, tagged.decode("utf-8", "replace"), front.describe()))
        if b" OK" not in tagged[:6]:
            print("lab: WARNING: local login of %s on the front failed: %s\n%s"
                  % (user, tagged.decode("utf-8", "replace"), front.describe()), file=sys.stderr)

    # ------------------------------------------------------------ state and env
    def _write_state(self):
        if hasattr(self, "ports"):
            self.state["ports"] = self.ports
        self.state["addr"] = self.addr
        path = os.path.join(self.dir, STATE)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self.state, f, indent=1)
        os.replace(path + ".tmp", path)

    def env(self):
        a, p, s = self.addr, self.ports, self.state["slapd"]
        inst = self.instances
        env = [
            ("LAB_DIR", self.dir), ("LAB_ENV", os.path.join(self.dir, ENV)),
            ("LAB_PLUGINS", self.plugins), ("LAB_BUILD_DIR", self.build_dir),
            ("LDAP_URI", s["uri"]), ("LDAP_ADDR", a["slapd"]), ("LDAP_PORT", s["port"]),
            ("LDAP_BASE", s["base"]), ("LDAP_ADMIN_DN", s["admin_dn"]),
            ("LDAP_ADMIN_PW", s["admin_pw"]),
            ("FRONT_ADDR", a["front"]), ("FRONT_PORT", p["front"]),
            ("FRONT_DIRECT_PORT", p["direct"]),
            ("HOME1_ADDR", a["home1"]), ("HOME1_PORT", p["home"]),
            ("HOME2_ADDR", a["home2"]), ("HOME2_PORT", p["home"]), ("HOME_PORT", p["home"]),
            ("HOME_TLS_PORT", p["home_tls"]), ("LAB_CA_FILE", self.ca["cert"]),
            # POP3 and LMTP: the same port on the front and on both homes.
            ("POP3_PORT", p["pop3"]), ("LMTP_PORT", p["lmtp"]),
        ]
        # FRONT_POP3_REFER_PORT, FRONT_LMTP_LOCAL_PORT, ...: listener_rule <policy>.
        for proto in ("pop3", "lmtp"):
            for policy in PROTOCOL_POLICY_LISTENERS:
                env.append(("FRONT_%s_PORT" % policy_key(proto, policy).upper(),
                            p[policy_key(proto, policy)]))
        for role, user in ROLES.items():
            env += [(role + "_USER", user), (role + "_PASS", "pw-" + user)]
        env += [
            ("SHARED_MAILBOX", SHARED_MAILBOX), ("SHARED_MAILBOX_UTF8", SHARED_MAILBOX_UTF8),
            ("PERSONAL_MAILBOX", PERSONAL_MAILBOX),
            ("RELAY_MASTER_USER", RELAY_MASTER[0]), ("RELAY_MASTER_PASS", RELAY_MASTER[1]),
            ("REFERRAL_SETTINGS", self.settings_file),
            ("MAILBOX_CACHE_DIR", os.path.join(inst["front"].dir, "mailbox-cache")),
            ("FRONT_CONF", inst["front"].conf), ("HOME1_CONF", inst["home1"].conf),
            ("HOME2_CONF", inst["home2"].conf),
            ("FRONT_LOG", inst["front"].log), ("HOME1_LOG", inst["home1"].log),
            ("HOME2_LOG", inst["home2"].log), ("SLAPD_LOG", s["log"]),
            # <X>_MAIL/<user>/Maildir: where each server keeps a user's mail.
            ("FRONT_MAIL", os.path.join(inst["front"].dir, "mail")),
            ("HOME1_MAIL", os.path.join(inst["home1"].dir, "mail")),
            ("HOME2_MAIL", os.path.join(inst["home2"].dir, "mail")),
            ("SLAPD_DIR", os.path.join(self.dir, "slapd")),
            ("SLAPD_PID", s["pid"]), ("FRONT_PID", inst["front"].pid),
            ("HOME1_PID", inst["home1"].pid), ("HOME2_PID", inst["home2"].pid),
        ]
        return env

    def write_env(self):
        path = os.path.join(self.dir, ENV)
        with open(path, "w", encoding="utf-8") as f:
            f.write("# dovecot-referral loopback lab (tests/lab/lab.py; keys: docs/lab.md)\n")
            for k, v in self.env():
                f.write("export %s=%s\n" % (k, shlex.quote(str(v))))
        self.state["env"] = dict((k, str(v)) for k, v in self.env())
        self._write_state()
        return path

    # ------------------------------------------------------------ stop
    def _load_state(self):
        with open(os.path.join(self.dir, STATE), "r", encoding="utf-8") as f:
            self.state = json.load(f)

    def _stop_all(self):
        left = []
        pgids = self.state.get("pgids", {})
        for name in ("front", "home1", "home2", "slapd"):
            pgid = pgids.get(name)
            if pgid:
                left += lab_process.stop_group(pgid)
        links = list(self.state.get("module_links") or [])
        if self.state.get("auth_symlink"):  # lab.json of an older lab.py
            links.append(self.state["auth_symlink"])
        for link in links:
            if not (os.path.islink(link["link"]) and os.readlink(link["link"]) == link["target"]):
                continue
            os.unlink(link["link"])
            # Put the replaced link back only while its lab still uses it
            # (a running process has that module loaded: the auth process
            # its driver, a config process its settings module).
            previous = link.get("previous")
            if previous and os.path.exists(previous) and lab_process.mapped_by_any_process(previous):
                os.symlink(previous, link["link"])
        return left

    def stop(self, quiet=False):
        """Stops everything; raises LabError if any process of the lab is
        still alive afterwards."""
        try:
            self._load_state()
        except FileNotFoundError:
            if not quiet:
                print("lab: no lab state in %s" % self.dir, file=sys.stderr)
            self.state = {}
        t0 = time.monotonic()
        left = self._stop_all()
        # Anything else still naming the lab dir (a daemon whose pid we lost).
        deadline = time.monotonic() + 3.0
        stray = lab_process.processes_mentioning(self.dir + "/")
        while stray and time.monotonic() < deadline:
            time.sleep(0.1)
            stray = lab_process.processes_mentioning(self.dir + "/")
        try:
            os.unlink(os.path.join(self.dir, STATE))
        except FileNotFoundError:
            pass
        self.stop_seconds = round(time.monotonic() - t0, 2)
        if left or stray:
            raise LabError("processes of the lab in %s are still running:\n%s" % (
                self.dir, "\n".join("  pid %d: %s" % pc for pc in left + stray)))

    def status(self):
        """[(name, pid, alive)] of the recorded daemons; [] when not started."""
        try:
            self._load_state()
        except FileNotFoundError:
            return []
        return [(n, pid, bool(pid) and lab_process.alive(pid))
                for n, pid in self.state.get("pgids", {}).items()]


def main(argv=None):
    ap = argparse.ArgumentParser(description="dovecot-referral loopback lab")
    ap.add_argument("command", choices=("start", "stop", "status"))
    ap.add_argument("--dir", default="lab-run")
    ap.add_argument("--addr-base", type=int, default=2)
    ap.add_argument("--plugins", choices=("none", "build", "installed"), default="none")
    ap.add_argument("--build-dir", default=None)
    ap.add_argument("--settings-file", default=None,
                    help="write the plugins' settings file here (default: in the lab dir)")
    ap.add_argument("--valgrind", action="store_true",
                    help="run the front's auth and imap processes under valgrind "
                         "(logs in DIR/front/valgrind; scripts/valgrind-lab.sh)")
    args = ap.parse_args(argv)
    lab = Lab(args.dir, args.addr_base, args.plugins, args.build_dir, args.settings_file,
              args.valgrind)
    try:
        if args.command == "start":
            lab.start()
            path = lab.write_env()
            print("lab: started in %.2fs (plugins: %s): front %s:%d (direct %d), home1 %s:%d, "
                  "home2 %s:%d, slapd %s" % (
                      lab.state["start_seconds"], lab.plugins, lab.addr["front"],
                      lab.ports["front"], lab.ports["direct"], lab.addr["home1"],
                      lab.ports["home"], lab.addr["home2"], lab.ports["home"], lab.slapd.uri))
            print(path)
        elif args.command == "stop":
            lab.stop()
            print("lab: stopped in %.2fs, no process left" % lab.stop_seconds)
        else:
            st = lab.status()
            if not st:
                print("lab: not running (no %s in %s)" % (STATE, lab.dir))
                return 3
            for name, pid, up in st:
                print("%-6s pid %-8s %s" % (name, pid, "running" if up else "NOT RUNNING"))
            env = os.path.join(lab.dir, ENV)
            if os.path.exists(env):
                print(env)
            return 0 if all(up for _, _, up in st) else 1
    except LabError as e:
        print("lab: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
