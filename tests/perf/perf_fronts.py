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
  ours with password_ldap (bench names ours-ldap*): the same, but the
          password passdb is Dovecot's passdb ldap (Debian's auth-ldap.conf.ext
          + result_success = continue-ok), auth_bind no or yes, with or without
          the referral_* fields (docs/login-referrals.md 1.5) that spare
          passdb referral its own search
  static  passwd-file whose extra fields hold host/port/nologin: a referral
          with no directory at all (what Dovecot costs by itself)
  chain-static  ours' chain with Dovecot's cheapest second passdb in place
          of passdb referral: the same passwd-file passdb (plain lines, the
          template's result_success = continue-ok), then `passdb static`
          giving static's referral fields, with ours' skip and
          result_internalfail lines; no plugin loaded.  The floor of any
          two-passdb chain (issue 13 item 3)
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

Dovecot 2.4 (the Dovecot on PATH decides, lab_dovecot.is_24()): the same
variants in 2.4's configuration language.  The lab's conf/2.4/ templates and
its conf_* snippets give the plugin lines (boolean plugin lists,
referral_config of our settings module, which must be linked into
<moduledir>/settings like the passdb driver into <moduledir>/auth); native is
2.4's own `passdb ldap { }` with typed ldap_* settings and a `fields { }`
block; sc1/sc0 are restart_request_count = 1 (2.4's default) / unlimited,
which replaced service_count.
"""
import os
import re
import shutil
import subprocess

import perf_common  # noqa: F401  (sets sys.path for the lab modules)
import perf_data
import lab_process
import lab_dovecot
from lab_dovecot import DovecotInstance, render

LAB_CONF = os.path.join(perf_common.REPO, "tests", "lab", "conf")
REFERRAL_TEMPLATE_NAME = "front-referral.conf.in"  # conf/ or conf/2.4/ (lab_dovecot)
SETTINGS_TEMPLATE = os.path.join(LAB_CONF, "dovecot-referral.conf.ext.in")
AUTH_MODULE_DIR = "/usr/lib/dovecot/modules/auth"
AUTH_MODULE = "libauthdb_referral.so"
# Dovecot 2.4 only: its config process loads settings modules from here, and
# without ours `referral_config` is an unknown setting (Dovecot will not start).
SETTINGS_MODULE_DIR = "/usr/lib/dovecot/modules/settings"
SETTINGS_MODULE = "libdovecot_referral_settings.so"
LOGIN_MODULE = "lib95_referral_login_plugin.so"
MAIL_MODULE = "lib95_imap_referral_plugin.so"
VARIANTS = ("ours", "native", "static", "local", "mailbox", "chain-static")
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


# The referral_* fields of docs/login-referrals.md 1.5, for the lab's attributes.
REFERRAL_FIELDS_23 = ("mailHost=referral_home_server, imapHomeServerURL=referral_url, "
                      "imapReferralPolicy=referral_policy, "
                      "=referral_fields=referral_home_server+referral_url+referral_policy")
REFERRAL_FIELDS_24 = ("    referral_home_server = %{ldap_multi:mailHost | default}\n"
                      "    referral_url = %{ldap_multi:imapHomeServerURL | default}\n"
                      "    referral_policy = %{ldap_multi:imapReferralPolicy | default}\n")


def native_ldap_conf(env, home_port, auth_bind=False, attrs=None):
    """Dovecot 2.3's LDAP passdb: the args file of `passdb { driver = ldap }`.
    Native (attrs None): the password and host + nologin.  With attrs: the
    password passdb of ours-ldap*, returning those pass_attrs after uid
    (and the password unless auth_bind)."""
    if attrs is None:
        attrs = "mailHost=host, =port=%s, =nologin=y, =reason=Your mailbox is on another server." \
            % home_port
    pass_attrs = "uid=user, " + ("" if auth_bind else "userPassword=password, ") + attrs
    return (
        "# Dovecot's LDAP passdb (benchmark variants 'native', 'ours-ldap*').\n"
        "uris = %s\n"
        "dn = %s\n"
        "dnpass = %s\n"
        "auth_bind = %s\n"
        "ldap_version = 3\n"
        "base = ou=people,%s\n"
        "scope = subtree\n"
        "deref = never\n"
        "pass_filter = (&(objectClass=inetLocalMailRecipient)(uid=%%u))\n"
        "pass_attrs = %s\n"
        "default_pass_scheme = PLAIN\n"
        % (env["LDAP_URI"].rstrip("/"), env["LDAP_ADMIN_DN"], env["LDAP_ADMIN_PW"],
           "yes" if auth_bind else "no", env["LDAP_BASE"], pass_attrs.rstrip(", ")))


def native_ldap_passdb_24(env, home_port, auth_bind=False, fields=None, chain=""):
    """Dovecot 2.4's LDAP passdb, the same lookup as the 2.3 args file
    above: settings of src/auth/db-ldap-settings.c (2.4.1) inside a named
    passdb block, whose filter name passdb_ldap lets `filter` and `bind`
    stand for passdb_ldap_filter and passdb_ldap_bind (doveconf -n prints
    them so).  The attributes searched for are the %{ldap:...} of `fields`;
    2.3's `=key=value` constants are plain fields here.  fields/chain:
    ours-ldap*'s fields after user (and password unless auth_bind) and its
    result_success line."""
    if fields is None:
        fields = ("    host = %%{ldap:mailHost}\n    port = %s\n    nologin = y\n"
                  "    reason = \"Your mailbox is on another server.\"\n" % home_port)
    return (
        "# Dovecot's LDAP passdb (benchmark variants 'native', 'ours-ldap*', Dovecot 2.4).\n"
        "passdb ldap {\n"
        "  driver = ldap\n"
        "%s"
        "  ldap_uris = %s\n"
        "  ldap_auth_dn = %s\n"
        "  ldap_auth_dn_password = %s\n"
        "  ldap_version = 3\n"
        "  ldap_base = ou=people,%s\n"
        "  ldap_scope = subtree\n"
        "  ldap_deref = never\n"
        "  bind = %s\n"
        "  filter = (&(objectClass=inetLocalMailRecipient)(uid=%%{user}))\n"
        "  default_password_scheme = PLAIN\n"
        "  fields {\n"
        "    user = %%{ldap:uid}\n"
        "%s"
        "%s"
        "  }\n"
        "}\n"
        % (chain, env["LDAP_URI"].rstrip("/"), env["LDAP_ADMIN_DN"], env["LDAP_ADMIN_PW"],
           env["LDAP_BASE"], "yes" if auth_bind else "no",
           "" if auth_bind else "    password = %{ldap:userPassword}\n", fields))


def static_passdb_conf(env):
    """chain-static's second passdb: Dovecot's passdb static with variant
    static's referral fields (perf_data.static_referral_fields) and
    nopassword, after the lab template's passwd-file passdb.  Its skip and
    result_internalfail are those of ours' passdb referral
    (front-referral.conf.in).  skip = unauthenticated is what keeps a wrong
    password from a referral here: with nopassword a static passdb reached
    after a failed one would accept any password.  (After a continue-ok
    success Dovecot checks no password again; nopassword only spares the
    static passdb its "No password returned" refusal.)

    Five fields, the fewest that give static's reply: passwd-file (static)
    splits its extra fields at spaces, so static's reason is "Your" and
    each further word of the sentence a field of its own that nothing
    reads; 2.3's args are split the same way, so here those words are left
    out (each would cost the template export and the field's copy); 2.4's
    typed fields keep the sentence in reason."""
    words = ("nopassword=y " + perf_data.static_referral_fields(env)).split(" ")
    if lab_dovecot.is_24():
        fields = []
        for word in words:
            if "=" in word:
                fields.append(word.split("=", 1))
            else:
                fields[-1][1] += " " + word
        return ("passdb static {\n  driver = static\n  skip = unauthenticated\n"
                "  result_internalfail = return-fail\n  fields {\n%s  }\n}\n"
                % "".join('    %s = "%s"\n' % (k, v) for k, v in fields))
    return ("passdb {\n  driver = static\n  args = %s\n"
            "  skip = unauthenticated\n  result_internalfail = return-fail\n}\n"
            % " ".join(w for w in words if "=" in w))


def password_ldap_conf(front):
    """ours-ldap*'s password passdb (replaces the lab's passwd-file one):
    passdb ldap handing over with result_success = continue-ok, as
    Debian's auth-ldap.conf.ext plus the one line 95-referral.conf asks for."""
    env, opts = front.env, front.password_ldap
    bind, fields = opts.get("bind", False), opts.get("fields", False)
    if lab_dovecot.is_24():
        return native_ldap_passdb_24(env, env["HOME_PORT"], bind,
                                     REFERRAL_FIELDS_24 if fields else "",
                                     "  result_success = continue-ok\n")
    conf = os.path.join(front.dir, "dovecot-ldap.conf.ext")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(native_ldap_conf(env, env["HOME_PORT"], bind,
                                 REFERRAL_FIELDS_23 if fields else ""))
    return ("passdb {\n  driver = ldap\n  args = %s\n  result_success = continue-ok\n}\n"
            % conf)


def login_mode_conf(mode):
    """Lines inside `service imap-login {}` for a login mode (2.4 replaced
    service_count by restart_request_count; its default, 1, is sc1)."""
    if mode != "sc0":
        return ""
    if lab_dovecot.is_24():
        return "  restart_request_count = unlimited\n  process_min_avail = 2\n"
    return "  service_count = 0\n  process_min_avail = 2\n"


def login_mode_label(mode, version=None):
    """How a login mode is written in the reports, for the Dovecot version
    of the run ("2.3"/"2.4"; None: the Dovecot on PATH)."""
    v24 = lab_dovecot.is_24() if version is None else version == "2.4"
    key = "restart_request_count" if v24 else "service_count"
    if mode == "sc1":
        return "%s = 1, default" % key
    return "%s = %s, process_min_avail = 2" % (key, "unlimited" if v24 else "0")


def _ensure_link(link, target, force):
    if os.path.exists(link) and not (force and os.path.islink(link)
                                     and os.readlink(link) != target):
        return
    if os.path.islink(link):
        os.unlink(link)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(target, link)
    perf_common.log("linked %s -> %s" % (link, target))


def ensure_auth_module(env, force=False):
    """Dovecot loads passdb drivers only from /usr/lib/dovecot/modules/auth,
    where a lab links the built driver while it runs.  Other labs on a shared
    machine add and remove that link too, and an auth process that starts
    while it is missing (a new front, or one Dovecot restarted after its
    idle_kill) fails with "Unknown passdb driver 'referral'".  The link is
    put back, pointing at this lab's build, when missing or dangling, or
    always with force (a lab's stop removes only a link to its own build).
    On Dovecot 2.4 the same holds for our settings module in
    /usr/lib/dovecot/modules/settings: without it every config read (the
    master's start, doveconf) stops at the unknown referral_config."""
    _ensure_link(os.path.join(AUTH_MODULE_DIR, AUTH_MODULE),
                 os.path.join(env["LAB_BUILD_DIR"], "plugin", "auth", AUTH_MODULE), force)
    ensure_settings_module(env, force)


def ensure_settings_module(env, force=False):
    """Dovecot 2.4 only (a no-op on 2.3): our settings module, as above.
    A lab without a build (--plugins none/installed) links nothing."""
    if lab_dovecot.is_24() and env.get("LAB_BUILD_DIR"):
        _ensure_link(os.path.join(SETTINGS_MODULE_DIR, SETTINGS_MODULE),
                     os.path.join(env["LAB_BUILD_DIR"], "plugin", "settings", SETTINGS_MODULE),
                     force)


def _mountinfo(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [line.split() for line in f]
    except OSError:
        return []


def mount_propagation():
    """unshare's --propagation for the private module mounts.  "private"
    makes every mount of the new namespace private, starting at "/"; inside
    a chroot whose root is not a mount point (scripts/debian13-root.sh) the
    kernel refuses that (EINVAL).  The binds then stay in the namespace by
    themselves only when no mount they could propagate through is shared
    (/proc/1/mountinfo: the whole machine's view); otherwise no safe way is
    left and the front is not started."""
    if any(f[4] == "/" for f in _mountinfo("/proc/self/mountinfo") if len(f) > 4):
        return "private"
    if any("shared:" in line for f in _mountinfo("/proc/1/mountinfo") for line in f):
        raise perf_common.PerfError(
            "plugin_build: this chroot's root is not a mount point and the machine has shared "
            "mounts, so module binds could leak out of the front's namespace")
    return "unchanged"


class BenchFront:
    def __init__(self, name, base_dir, addr, variant, mode, env, passwd_lines,
                 settings_overrides=None, auth_cache=True, plugin_build=None, extra_conf="",
                 password_ldap=None, native_bind=False):
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
        # ours only: {"bind": bool, "fields": bool}: passdb ldap checks the
        # password (instead of the lab's passwd-file), auth_bind, referral_* fields;
        # {"password_mode": True}: no password passdb, passdb referral checks it
        # (password_attribute = userPassword)
        self.password_ldap = password_ldap
        self.native_bind = native_bind  # native only: auth_bind = yes
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
        overrides = dict(self.settings_overrides)
        if self.password_ldap and self.password_ldap.get("password_mode"):
            # The bench users' userPassword is cleartext (perf_data.py), as
            # native's default_pass_scheme = PLAIN reads it.
            overrides.update({"password_attribute": "userPassword",
                              "password_default_scheme": "PLAIN"})
        if self.variant in ("ours", "mailbox"):
            with open(self.settings_file, "w", encoding="utf-8") as f:
                f.write(settings_text(env, self.addr, self.direct_port, overrides))
            os.chmod(self.settings_file, 0o644)
        password_mode = bool(self.password_ldap and self.password_ldap.get("password_mode"))
        if self.variant == "ours" and self.password_ldap is not None and not password_mode:
            # Before the referral passdb of the template below.
            parts.append(password_ldap_conf(self))
        if self.variant == "ours":
            out = os.path.join(d, "referral.conf")
            template = lab_dovecot.conf_template(REFERRAL_TEMPLATE_NAME)
            if lab_dovecot.is_24() and os.path.dirname(template) == LAB_CONF:
                raise perf_common.PerfError(
                    "Dovecot 2.4: the lab has no conf/2.4/%s yet (the 2.3 template would be "
                    "refused)" % REFERRAL_TEMPLATE_NAME)
            render(template, {
                "SETTINGS_FILE": self.settings_file,
                "LOGIN_PLUGIN_DIR": os.path.join(lab_front, "login"),
                "MAIL_PLUGIN_DIR": os.path.join(lab_front, "mail"),
                "LDAP_URI": env["LDAP_URI"], "FRONT_ADDR": self.addr, "FRONT_PORT": self.port,
                "DIRECT_PORT": self.direct_port, "HOME_PORT": env["HOME_PORT"], "LAB_DIR": d,
                # the template's referral-directory service (the lab's own build)
                "DIRECTORY_SERVICE": os.path.join(self.plugin_build or env.get("LAB_BUILD_DIR", ""),
                                                  "plugin", "service", "referral-directory"),
            }, out)
            if password_mode:
                # passdb referral alone: the template's chain-mode line goes
                # (the driver refuses skip = unauthenticated in password mode).
                with open(out, "r", encoding="utf-8") as f:
                    text = f.read()
                text, n = re.subn(r"(?m)^  skip = unauthenticated\n", "", text, count=1)
                if n != 1:
                    raise perf_common.PerfError("no skip = unauthenticated in %s" % out)
                with open(out, "w", encoding="utf-8") as f:
                    f.write(text)
            parts.append("!include %s\n" % out)
        elif self.variant == "chain-static":
            # After the lab template's passwd-file passdb, as ours' passdb referral.
            parts.append(static_passdb_conf(env))
        elif self.variant == "native" and lab_dovecot.is_24():
            # Replaces the lab's passwd-file passdb: the password comes from LDAP.
            parts.append(native_ldap_passdb_24(env, env["HOME_PORT"], self.native_bind))
        elif self.variant == "native":
            conf = os.path.join(d, "dovecot-ldap.conf.ext")
            with open(conf, "w", encoding="utf-8") as f:
                f.write(native_ldap_conf(env, env["HOME_PORT"], self.native_bind))
            # Replaces the lab's passwd-file passdb: the password comes from LDAP.
            parts.append("passdb {\n  driver = ldap\n  args = %s\n}\n" % conf)
        elif self.variant == "mailbox":
            parts.append(lab_dovecot.conf_mail_plugin(os.path.join(lab_front, "mail"),
                                                      self.settings_file))
        parts.append(self.extra_conf)
        # The same auth cache for every variant (after the template, so it wins).
        if self.auth_cache:
            parts.append("auth_cache_size = 10M\nauth_cache_ttl = 1 hour\n"
                         "auth_cache_negative_ttl = 1 hour\n")
        else:
            parts.append("auth_cache_size = 0\n")
        return "".join(parts)

    def _module_mounts(self):
        """[(directory of this front, Dovecot's module directory)] bind-mounted
        in the front's private mount namespace: auth/ (the passdb driver) and,
        on Dovecot 2.4, settings/ (the settings module of the same build)."""
        root = os.path.join(self.dir, "plugins")
        mounts = [(os.path.join(root, "auth"), AUTH_MODULE_DIR)]
        if lab_dovecot.is_24():
            mounts.append((os.path.join(root, "settings"), SETTINGS_MODULE_DIR))
        return mounts

    def _plugin_dirs(self):
        """login/ and mail/ directories of symlinks into plugin_build, and
        auth/ (on 2.4 also settings/): a copy of Dovecot's module directory
        with plugin_build's module in place of ours, for the private mounts
        in start()."""
        root = os.path.join(self.dir, "plugins")
        shutil.rmtree(root, ignore_errors=True)
        links = {"login": [(os.path.join(self.plugin_build, "plugin", "login", LOGIN_MODULE),
                            LOGIN_MODULE)],
                 "mail": [(os.path.join(self.plugin_build, "plugin", "imap", MAIL_MODULE),
                           MAIL_MODULE)]}
        ours = {AUTH_MODULE_DIR: ("auth", AUTH_MODULE, os.path.join("plugin", "auth")),
                SETTINGS_MODULE_DIR: ("settings", SETTINGS_MODULE,
                                      os.path.join("plugin", "settings"))}
        copied = set()
        for _, module_dir in self._module_mounts():
            sub, module, built = ours[module_dir]
            links[sub] = [(os.path.join(self.plugin_build, built, module), module)]
            for name in sorted(os.listdir(module_dir)):
                if name != module:
                    links[sub].append((os.path.join(module_dir, name), name))
                    copied.add((sub, name))
        for sub, pairs in links.items():
            os.makedirs(os.path.join(root, sub))
            for target, name in pairs:
                if not os.path.exists(target):
                    raise perf_common.PerfError("%s: not built" % target)
                # auth/ (settings/) is bind-mounted over Dovecot's directory:
                # links to files in that directory would point at themselves,
                # so copy those.
                if (sub, name) in copied:
                    shutil.copy2(target, os.path.join(root, sub, name))
                else:
                    os.symlink(os.path.realpath(target), os.path.join(root, sub, name))
        return root

    def _argv(self):
        return self._in_namespace(["dovecot", "-F", "-c", self.inst.conf])

    def _in_namespace(self, argv):
        """argv as it runs for this front: in a private mount namespace with
        plugin_build's modules when the front has one."""
        if not self.plugin_build:
            return argv
        # unshare execs (no fork): the master keeps the pid and the process
        # group of the spawned command; the mounts are gone with its processes.
        script, args = "", []
        for i, (src, dst) in enumerate(self._module_mounts()):
            script += 'mount --bind "$%d" "$%d" && ' % (2 * i + 1, 2 * i + 2)
            args += [src, dst]
        script += 'shift %d && exec "$@"' % len(args)
        return ["unshare", "--mount", "--propagation", mount_propagation(), "sh", "-c", script,
                "sh"] + args + argv

    def _listeners(self):
        return (lab_dovecot.conf_inet_listener("imap_direct", self.addr, self.direct_port)
                + login_mode_conf(self.mode))

    def prepare(self, link_modules=True):
        """Writes the front's directory and dovecot.conf (start() does this
        first).  link_modules=False leaves Dovecot's module directories alone
        (check_conf: the configuration only)."""
        os.makedirs(self.dir, exist_ok=True)
        # A log of an earlier run would be read as this start's failure.
        shutil.rmtree(os.path.join(self.dir, "log"), ignore_errors=True)
        if link_modules and self.variant == "ours" and not self.plugin_build:
            ensure_auth_module(self.env)
        elif link_modules and self.variant == "mailbox" and not self.plugin_build:
            ensure_settings_module(self.env)
        self.inst = DovecotInstance(self.name, self.dir, self.addr, self.port, [])
        include = self._include()
        self.inst.prepare(listeners=self._listeners(), include=include)
        if self.variant == "native" or self.password_ldap is not None:
            # The lab template's passwd-file passdb stays out of these variants.
            with open(self.inst.conf, "r", encoding="utf-8") as f:
                conf = f.read()
            conf, n = re.subn(r"(?ms)^passdb (passwd-file )?\{\n  driver = passwd-file.*?^\}\n",
                              "", conf, count=1)
            if n != 1:
                raise perf_common.PerfError("native: no passwd-file passdb in the lab template")
            with open(self.inst.conf, "w", encoding="utf-8") as f:
                f.write(conf)
        with open(os.path.join(self.dir, "passwd"), "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in self.passwd_lines))
        self.inst.finish_prepare()
        return self

    def start(self):
        self.prepare()
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


# ---------------------------------------------------------------- check_conf
def check_conf(work, addr_base=60, variants=VARIANTS, build=None):
    """Renders every variant in both login modes with a made-up lab
    environment (nothing is started, no module is linked) and has
    `doveconf -n` read each dovecot.conf: the configuration this file writes
    is what the Dovecot on PATH accepts.  ours and mailbox need our modules
    where Dovecot looks for them (on 2.4 the settings module registers
    referral_config): those of a running lab, or with build those of that
    build tree, mounted in a private namespace as for plugin_build (root
    only; nothing changes for other processes).  Returns
    [(front name, None or doveconf's complaint)]."""
    lab_dir = os.path.join(work, "lab")
    os.makedirs(os.path.join(lab_dir, "front", "plugins", "login"), exist_ok=True)
    os.makedirs(os.path.join(lab_dir, "front", "plugins", "mail"), exist_ok=True)
    env = {"LDAP_URI": "ldap://127.0.0.%d:3389/" % addr_base,
           "LDAP_BASE": "dc=example,dc=test", "LDAP_ADMIN_DN": "cn=admin,dc=example,dc=test",
           "LDAP_ADMIN_PW": "secret", "HOME_PORT": "1143",
           "HOME1_ADDR": "127.0.0.%d" % (addr_base + 1),
           "HOME2_ADDR": "127.0.0.%d" % (addr_base + 2), "LAB_DIR": lab_dir,
           "LAB_BUILD_DIR": ""}
    static = "host=%s port=1143 nologin=y reason=Your mailbox is on another server." % (
        env["HOME1_ADDR"])
    out = []
    for i, variant in enumerate(variants):
        for mode in MODES:
            passwd = ["u1:{PLAIN}pw-u1::::::" + (static if variant == "static" else "")]
            name = "check-%s-%s" % (variant, mode)
            front = BenchFront(name, work, "127.0.0.%d" % (addr_base + 4 + i), variant, mode,
                               env, [] if variant == "native" else passwd,
                               settings_overrides={"cache_ttl": "60s"},
                               plugin_build=build if variant in ("ours", "mailbox") else None)
            try:
                front.prepare(link_modules=False)
                p = subprocess.run(front._in_namespace(["doveconf", "-n", "-c", front.inst.conf]),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
                if p.returncode != 0:
                    raise perf_common.PerfError(p.stdout.decode("utf-8", "replace"))
                out.append((name, None))
            except Exception as e:  # noqa: BLE001 (reported, the others still run)
                out.append((name, str(e)))
    return out


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="check the bench fronts' configuration "
                                 "with doveconf (no server is started)")
    ap.add_argument("command", choices=("check-conf",))
    ap.add_argument("--work", required=True, help="directory for the rendered fronts")
    ap.add_argument("--addr-base", type=int, default=60)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--build-dir", help="take ours' and mailbox's modules from this build tree "
                    "(private mount namespace) instead of Dovecot's module directories")
    args = ap.parse_args(argv)
    build = os.path.abspath(args.build_dir) if args.build_dir else None
    results = check_conf(os.path.abspath(args.work), args.addr_base,
                         args.variants.split(","), build)
    print("Dovecot %s" % perf_common.dovecot_label())
    for name, err in results:
        print("%-24s %s" % (name, "ok" if err is None else "FAILED\n" + err))
    return 1 if any(err for _, err in results) else 0


if __name__ == "__main__":
    import sys
    sys.exit(main())
