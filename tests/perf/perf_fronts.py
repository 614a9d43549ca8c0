"""Front-end Dovecot variants for the benchmarks, next to a running lab.

The lab (tests/lab/lab.py, --plugins build) provides slapd, the two home
servers and the built plugins.  A BenchFront is one more Dovecot instance on
its own 127.0.0.x address, made with the lab's own DovecotInstance and
dovecot.conf template, so every variant differs from the others only in the
lines below:

  ours    passwd-file (password) + passdb referral + login and imap plugins:
          the lab's tests/lab/conf/front-referral.conf.in, rendered as the lab
          renders it, with a settings file of its own
  native  Dovecot's own LDAP login referral: passdb ldap, one search per
          login that returns userPassword and maps mailHost to host, with
          nologin=y (dovecot-ldap.conf.ext pointing at the lab slapd)
  static  passwd-file whose extra fields hold host/port/nologin: a referral
          with no directory at all (what Dovecot costs by itself)
  local   passwd-file only, plain local login (no plugins)
  mailbox passwd-file + the imap plugin only (mailbox referral benchmarks)

A front of variant ours may take its plugins from another build tree
(plugin_build): its login and imap plugins then come from that tree, and its
passdb driver too, through a private mount namespace in which that tree's
libauthdb_referral.so is bind-mounted over Dovecot's auth module directory
(Dovecot loads passdb drivers only from there, one file for the whole
machine).  So two builds, e.g. before and after a change, run side by side in
one benchmark run.

mode "sc1" is Dovecot's default login mode (service_count = 1: one
imap-login process per connection); "sc0" is high-performance mode
(service_count = 0, process_min_avail = 2).
"""
import os
import re
import shutil

import perf_common  # noqa: F401  (sets sys.path for the lab modules)
import lab_process
from lab_dovecot import DovecotInstance, render

LAB_CONF = os.path.join(perf_common.REPO, "tests", "lab", "conf")
REFERRAL_TEMPLATE = os.path.join(LAB_CONF, "front-referral.conf.in")
SETTINGS_TEMPLATE = os.path.join(LAB_CONF, "dovecot-referral.conf.ext.in")
AUTH_MODULE_DIR = "/usr/lib/dovecot/modules/auth"
AUTH_MODULE = "libauthdb_referral.so"
LOGIN_MODULE = "lib95_referral_login_plugin.so"
MAIL_MODULE = "lib95_imap_referral_plugin.so"
VARIANTS = ("ours", "native", "static", "local", "mailbox")
MODES = ("sc1", "sc0")


def settings_text(env, addr, direct_port, overrides):
    """The lab's settings template for this front, with keys replaced
    (a key given in overrides replaces every line of that key)."""
    text = render(SETTINGS_TEMPLATE, {
        "LDAP_URI": env["LDAP_URI"], "LDAP_BASE": env["LDAP_BASE"],
        "LDAP_ADMIN_DN": env["LDAP_ADMIN_DN"], "LDAP_ADMIN_PW": env["LDAP_ADMIN_PW"],
        "HOME_PORT": env["HOME_PORT"], "FRONT_ADDR": addr, "DIRECT_PORT": direct_port,
        "HOME1_ADDR": env["HOME1_ADDR"], "HOME2_ADDR": env["HOME2_ADDR"]})
    for key, value in overrides.items():
        text = re.sub(r"(?m)^%s\s*=.*\n" % re.escape(key), "", text)
        if value is not None:
            text += "%s = %s\n" % (key, value)
    return text


def native_ldap_conf(env, home_port):
    return (
        "# Dovecot's native LDAP passdb (benchmark variant 'native').\n"
        "uris = %s\n"
        "dn = %s\n"
        "dnpass = %s\n"
        "auth_bind = no\n"
        "ldap_version = 3\n"
        "base = ou=people,%s\n"
        "scope = subtree\n"
        "deref = never\n"
        "pass_filter = (&(objectClass=inetLocalMailRecipient)(uid=%%u))\n"
        "pass_attrs = uid=user, userPassword=password, mailHost=host, =port=%s, =nologin=y, "
        "=reason=Your mailbox is on another server.\n"
        "default_pass_scheme = PLAIN\n"
        % (env["LDAP_URI"].rstrip("/"), env["LDAP_ADMIN_DN"], env["LDAP_ADMIN_PW"],
           env["LDAP_BASE"], home_port))


def ensure_auth_module(env, force=False):
    """Dovecot loads passdb drivers only from /usr/lib/dovecot/modules/auth,
    where a lab links the built driver while it runs.  Other labs on a shared
    machine add and remove that link too, and an auth process that starts
    while it is missing (a new front, or one Dovecot restarted after its
    idle_kill) fails with "Unknown passdb driver 'referral'".  The link is
    put back, pointing at this lab's build, when missing or dangling, or
    always with force (a lab's stop removes only a link to its own build)."""
    link = os.path.join(AUTH_MODULE_DIR, AUTH_MODULE)
    target = os.path.join(env["LAB_BUILD_DIR"], "plugin", "auth", AUTH_MODULE)
    if os.path.exists(link) and not (force and os.path.islink(link)
                                     and os.readlink(link) != target):
        return
    if os.path.islink(link):
        os.unlink(link)
    os.symlink(target, link)
    perf_common.log("linked %s -> %s" % (link, target))


class BenchFront:
    def __init__(self, name, base_dir, addr, variant, mode, env, passwd_lines,
                 settings_overrides=None, auth_cache=True, plugin_build=None, extra_conf=""):
        if variant not in VARIANTS or mode not in MODES:
            raise perf_common.PerfError("unknown variant/mode %s/%s" % (variant, mode))
        self.name, self.addr, self.variant, self.mode, self.env = name, addr, variant, mode, env
        self.dir = os.path.join(base_dir, name)
        self.port = lab_process.pick_port([addr])
        self.direct_port = lab_process.pick_port([addr], taken={self.port})
        self.passwd_lines = passwd_lines
        self.settings_overrides = settings_overrides or {}
        self.auth_cache = auth_cache
        self.plugin_build = plugin_build
        self.extra_conf = extra_conf
        self.inst = None
        self.settings_file = os.path.join(self.dir, "dovecot-referral.conf.ext")

    @property
    def pid(self):
        return self.inst.pid

    @property
    def log(self):
        return self.inst.log

    def _include(self):
        env, d = self.env, self.dir
        lab_front = os.path.join(env["LAB_DIR"], "front", "plugins")
        if self.plugin_build:
            lab_front = self._plugin_dirs()
        parts = []
        if self.variant in ("ours", "mailbox"):
            with open(self.settings_file, "w", encoding="utf-8") as f:
                f.write(settings_text(env, self.addr, self.direct_port, self.settings_overrides))
            os.chmod(self.settings_file, 0o644)
        if self.variant == "ours":
            out = os.path.join(d, "referral.conf")
            render(REFERRAL_TEMPLATE, {
                "SETTINGS_FILE": self.settings_file,
                "LOGIN_PLUGIN_DIR": os.path.join(lab_front, "login"),
                "MAIL_PLUGIN_DIR": os.path.join(lab_front, "mail"),
                "LDAP_URI": env["LDAP_URI"], "FRONT_ADDR": self.addr, "FRONT_PORT": self.port,
                "DIRECT_PORT": self.direct_port, "HOME_PORT": env["HOME_PORT"], "LAB_DIR": d,
            }, out)
            parts.append("!include %s\n" % out)
        elif self.variant == "native":
            conf = os.path.join(d, "dovecot-ldap.conf.ext")
            with open(conf, "w", encoding="utf-8") as f:
                f.write(native_ldap_conf(env, env["HOME_PORT"]))
            # Replaces the lab's passwd-file passdb: the password comes from LDAP.
            parts.append("passdb {\n  driver = ldap\n  args = %s\n}\n" % conf)
        elif self.variant == "mailbox":
            parts.append("mail_plugin_dir = %s\nprotocol imap {\n  mail_plugins = $mail_plugins "
                         "imap_referral\n}\nplugin {\n  referral_config = %s\n}\n"
                         % (os.path.join(lab_front, "mail"), self.settings_file))
        parts.append(self.extra_conf)
        # The same auth cache for every variant (after the template, so it wins).
        if self.auth_cache:
            parts.append("auth_cache_size = 10M\nauth_cache_ttl = 1 hour\n"
                         "auth_cache_negative_ttl = 1 hour\n")
        else:
            parts.append("auth_cache_size = 0\n")
        return "".join(parts)

    def _plugin_dirs(self):
        """login/ and mail/ directories of symlinks into plugin_build, and
        auth/: a copy of Dovecot's auth module directory (symlinks) with
        plugin_build's passdb driver, for the private mount in start()."""
        root = os.path.join(self.dir, "plugins")
        shutil.rmtree(root, ignore_errors=True)
        links = {"login": [(os.path.join(self.plugin_build, "plugin", "login", LOGIN_MODULE),
                            LOGIN_MODULE)],
                 "mail": [(os.path.join(self.plugin_build, "plugin", "imap", MAIL_MODULE),
                           MAIL_MODULE)],
                 "auth": [(os.path.join(self.plugin_build, "plugin", "auth", AUTH_MODULE),
                           AUTH_MODULE)]}
        for name in sorted(os.listdir(AUTH_MODULE_DIR)):
            if name != AUTH_MODULE:
                links["auth"].append((os.path.join(AUTH_MODULE_DIR, name), name))
        for sub, pairs in links.items():
            os.makedirs(os.path.join(root, sub))
            for target, name in pairs:
                if not os.path.exists(target):
                    raise perf_common.PerfError("%s: not built" % target)
                # auth/ is bind-mounted over AUTH_MODULE_DIR: links to files
                # in that directory would point at themselves, so copy those.
                if sub == "auth" and name != AUTH_MODULE:
                    shutil.copy2(target, os.path.join(root, sub, name))
                else:
                    os.symlink(os.path.realpath(target), os.path.join(root, sub, name))
        return root

    def _argv(self):
        argv = ["dovecot", "-F", "-c", self.inst.conf]
        if not self.plugin_build:
            return argv
        # unshare execs (no fork): the master keeps the pid and the process
        # group of the spawned command; the mount is gone with its processes.
        auth_dir = os.path.join(self.dir, "plugins", "auth")
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh", auth_dir,
                AUTH_MODULE_DIR] + argv

    def _listeners(self):
        text = ("  inet_listener imap_direct {\n    address = %s\n    port = %d\n  }\n"
                % (self.addr, self.direct_port))
        if self.mode == "sc0":
            text += "  service_count = 0\n  process_min_avail = 2\n"
        return text

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        # A log of an earlier run would be read as this start's failure.
        shutil.rmtree(os.path.join(self.dir, "log"), ignore_errors=True)
        if self.variant == "ours" and not self.plugin_build:
            ensure_auth_module(self.env)
        self.inst = DovecotInstance(self.name, self.dir, self.addr, self.port, [])
        include = self._include()
        self.inst.prepare(listeners=self._listeners(), include=include)
        if self.variant == "native":
            # The lab template's passwd-file passdb stays out of this variant.
            with open(self.inst.conf, "r", encoding="utf-8") as f:
                conf = f.read()
            conf = re.sub(r"(?ms)^passdb \{\n  driver = passwd-file.*?^\}\n", "", conf, count=1)
            with open(self.inst.conf, "w", encoding="utf-8") as f:
                f.write(conf)
        with open(os.path.join(self.dir, "passwd"), "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in self.passwd_lines))
        self.inst.finish_prepare()
        if not self.plugin_build:
            self.inst.start()
            return self
        # DovecotInstance.start() with the namespace wrapper around dovecot.
        inst = self.inst
        inst.validate()
        inst.proc = lab_process.spawn(self._argv(), inst.stdout_log)
        inst.pid = inst.proc.pid
        try:
            lab_process.wait_imap_greeting(inst.addr, inst.port, inst.proc, 20.0, inst.describe,
                                           fatal_log=inst.log)
        except Exception:
            inst.stop()
            raise
        return self

    def stop(self):
        if self.inst is not None and self.inst.pid:
            self.inst.stop()
