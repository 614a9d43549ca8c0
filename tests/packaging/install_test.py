#!/usr/bin/env python3
"""Install test of the packages (issues 5 and 10; docs/packaging.md, "The install test").

    install_test.py --source DIR --build DIR --work DIR [--addr-base 50] [--dovecot 2.3|2.4]

Runs in the system whose Dovecot the package is for (the build's Dovecot,
default: this system's dovecot-dev): Dovecot 2.3 on the Debian 12 host,
Dovecot 2.4 inside the Debian 13 root (scripts/debian13-root.sh run; the
2.4 ctest run of scripts/test.sh does that).

1. builds the packages with scripts/build-packages.sh --dovecot V (unit
   tests skipped: the suite has just run them): the .deb, and on 2.3 the .rpm,
2. static checks: file lists, Depends (exact dovecot-core pin + ABI),
   Built-Using (this release's gcc), conffiles, exported symbols (nm -D);
   on 2.3 rpm requires/configfiles and the same file set in both packages;
   lintian of this release (errors/warnings fail) and on 2.3 rpmlint (with
   packaging/rpm/dovecot-referral.rpmlintrc), with their output printed,
3. installs the .deb with apt into a FRESH root of its release (a pristine
   copy made by `debian13-root.sh fresh DIR SUITE`: minbase and the lab's
   tools, no Dovecot; Debian 12 "bookworm" for 2.3, made on the host,
   Debian 13 "trixie" for 2.4, copied inside the build root), so its Depends
   pull Dovecot from the mirror; then checks the installed files,
   `dovecot-referral-lookup --version`, that Dovecot's own configuration
   still parses, and that the installed snippet, uncommented, is accepted,
4. starts the lab from the installed files (tests/lab/lab.py --plugins
   installed, settings in /etc/dovecot/dovecot-referral.conf.ext; inside
   the fresh root) and runs the PACKAGE_TESTS subset of the login- and
   mailbox-referral integration tests against it (DREF_LAB_ENV=<lab>/lab.env;
   inside the fresh root too): the ones that load every installed file from
   its installed place; the whole suite has run against the same code in the
   build tree.  Then it checks the plugins' load log lines and starts one
   more front whose only referral configuration is the installed snippet
   uncommented (snippet_front.py): a login referral, a proxied login and a
   mailbox referral, each from a real client,
5. always (finally): stops the lab, dpkg --purge, and checks nothing is left:
   dpkg -L empty, module directories and /etc/dovecot as after the install
   minus the package's own paths (the Dovecot its Depends pulled in stays);
   the fresh root is then deleted.  The system the test runs in (the host,
   or the build root) gets no package and no link.

A run that was killed is recovered by the next one through the state file
RECOVERY (it names the lab dir and the fresh root, which is deleted).
"""
import argparse
import fcntl
import json
import os
import re
import signal
import shlex
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import package_inspect as pi  # noqa: E402

ROOT_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "debian13-root.sh")
# The fresh root: in the file system of the system the test runs in (the
# host for 2.3, the build root for 2.4), never under the source tree or /tmp,
# which are bind-mounted into it: a stray rm -r there must not reach through
# its bind mounts.
FRESH_ROOT = "/var/tmp/dref-packaging-fresh-root"
# The Debian release each package is for (debian13-root.sh fresh DIR SUITE).
FRESH_SUITE = {"2.3": "bookworm", "2.4": "trixie"}
RECOVERY = "/var/tmp/dovecot-referral-packaging-test.json"
# Held (flock) for the whole run: one install test per machine at a time, and
# a RECOVERY file whose writer no longer holds the lock is from a dead run.
LOCK = "/var/tmp/dovecot-referral-packaging-test.lock"
SETTINGS = "/etc/dovecot/dovecot-referral.conf.ext"
WATCHED = ["/usr/lib/dovecot/modules", pi.DEB_SERVICE, "/etc/dovecot", "/usr/share/dovecot-referral",
           pi.DOC_DIR, "/usr/bin/dovecot-referral-lookup",
           "/usr/share/man/man1/dovecot-referral-lookup.1.gz"]
INTEGRATION_SUITES = ("login", "mailbox")
# The lab tests run against the installed package: what only the installed
# layout can break (file places, file modes, the passdb driver in Dovecot's
# compiled-in <moduledir>/auth with no lab link, the service program in
# <libexec> and its UNIX listener, /etc/dovecot's settings file read by
# every process user, the libldap the Depends bring for dlopen()).  The
# logic is the same code as in the build tree, which the main suite runs
# through every other lab test (failover, outages, proxy TLS, the relay,
# clients: they would only repeat it here, 3 to 5 minutes per Dovecot).
# A name missing from ctest fails the run: a rename must not silently drop
# one.  lab_smoke is no test of the package (a lab without plugins).
PACKAGE_TESTS = {
    # The passdb driver loaded by the auth process from <moduledir>/auth
    # (libldap dlopen()ed from the Depends), the login plugin from
    # <moduledir>/login, both reading /etc/dovecot/dovecot-referral.conf.ext:
    # referrals, failures, the proxied path to home1's INBOX.
    "referral_login": "login",
    # The imap plugin from <moduledir>, loaded by imap as the mail uid and
    # reading the settings file as that uid: mailbox referrals (RFC 2193).
    "mailbox_commands": "mailbox",
    # <libexec>/referral-directory started by Dovecot's master from the
    # installed program: its listener's mode and owner, one LDAP connection
    # for all sessions, restart after a kill, slapd outage, cache_ttl.
    "mailbox_directory_service": "mailbox",
}


class Terminated(Exception):
    pass


def on_signal(signum, _frame):
    raise Terminated("signal %d" % signum)


class Run:
    def __init__(self):
        self.problems = []
        self.t0 = time.monotonic()
        self.timings = []

    def step(self, name):
        print("\n=== %s (t=%.0fs)" % (name, time.monotonic() - self.t0), flush=True)
        self.timings.append((name, time.monotonic()))

    def add(self, problems):
        for p in problems:
            print("PROBLEM: " + p, flush=True)
        self.problems += problems

    def summary(self):
        print("\n=== timings")
        marks = self.timings + [("end", time.monotonic())]
        for (name, t), (_, t_next) in zip(marks, marks[1:]):
            print("  %6.1fs  %s" % (t_next - t, name))
        print("  %6.1fs  total" % (time.monotonic() - self.t0))


class System:
    """Where the package is installed and its lab runs: this system (root
    None) or a fresh root of SUITE (commands through `debian13-root.sh run`
    with DREF_DEBIAN13_ROOT pointing at it).  The source tree is at the same
    path in both, so lab directories and lab.env paths mean the same."""

    def __init__(self, root=None, suite=None):
        self.root = root
        self.suite = suite

    def path(self, p):
        return p if self.root is None else os.path.join(self.root, p.lstrip("/"))

    def argv(self, argv, env=None):
        if self.root is None:
            return argv
        # `run` starts the command with an empty environment (env -i): what
        # the command needs is passed through env(1) inside.
        return (["bash", ROOT_SCRIPT, "run", "env"] +
                ["%s=%s" % kv for kv in sorted((env or {}).items())] + argv)

    def run(self, argv, env=None, **kw):
        """subprocess.run of argv in this system, with env added."""
        full_env = dict(os.environ)
        if self.root is None:
            full_env.update(env or {})
        else:
            full_env["DREF_DEBIAN13_ROOT"] = self.root
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.STDOUT)
        return subprocess.run(self.argv(argv, env), env=full_env, **kw)

    def output(self, argv, env=None, **kw):
        """(exit status, output text)."""
        p = self.run(argv, env, **kw)
        return p.returncode, (p.stdout or b"").decode("utf-8", "replace")

    def make(self):
        """debian13-root.sh fresh ROOT SUITE (a copy of that suite's base)."""
        return subprocess.run(["bash", ROOT_SCRIPT, "fresh", self.root, self.suite]).returncode

    def script(self, *args):
        """debian13-root.sh ARGS (teardown, umount) for this fresh root."""
        env = dict(os.environ, DREF_DEBIAN13_ROOT=self.root)
        return subprocess.run(["bash", ROOT_SCRIPT] + list(args), env=env).returncode


def snapshot(system):
    """Every path (with link targets) under the watched locations."""
    seen = set()
    for top in WATCHED:
        real = system.path(top)
        if not os.path.lexists(real):
            continue
        if not os.path.isdir(real) or os.path.islink(real):
            seen.add(top)
            continue
        for root, dirs, files in os.walk(real):
            logical = top + root[len(real):]
            seen.add(logical)
            for n in dirs + files:
                p = os.path.join(root, n)
                seen.add(os.path.join(logical, n) +
                         (" -> " + os.readlink(p) if os.path.islink(p) else ""))
    return seen


def dpkg_status(system):
    """dpkg's status of the package ("ii", "rc", ...); "" when dpkg has no
    files of it (unknown, or known as not-installed: "un"/"pn")."""
    rc, out = system.output(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pi.PKG],
                            stderr=subprocess.DEVNULL)
    status = out.strip() if rc == 0 else ""
    return "" if len(status) < 2 or status[1] == "n" else status


def lab_cmd(source, *args):
    return ["python3", os.path.join(source, "tests", "lab", "lab.py")] + list(args)


def local_dovecot():
    """major.minor of this system's dovecot-dev ("2.3", "2.4"), or ""."""
    p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "dovecot-dev"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    m = re.match(r"^(?:\d+:)?(\d+\.\d+)", p.stdout.decode())
    return m.group(1) if p.returncode == 0 and m else ""


def recover(source):
    """Undoes a run that was killed before its cleanup."""
    try:
        with open(RECOVERY, encoding="utf-8") as f:
            state = json.load(f)
    except FileNotFoundError:
        return
    print("recovering from an interrupted run (%s): %s" % (RECOVERY, state), flush=True)
    system = System(state.get("fresh_root"))
    usable = system.root is None or os.path.isdir(system.path("/usr"))
    if state.get("lab_dir") and usable:
        system.run(lab_cmd(source, "stop", "--dir", state["lab_dir"]), stdout=None, stderr=None)
    if system.root is None:
        if dpkg_status(system):
            subprocess.run(["dpkg", "--purge", pi.PKG])
    elif os.path.lexists(system.root):
        system.script("teardown")
    os.unlink(RECOVERY)


def take_lock():
    """The run's lock file object, or None when another run holds it."""
    f = open(LOCK, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        return None, f.read().strip()
    f.seek(0)
    f.truncate()
    f.write("pid %d\n" % os.getpid())
    f.flush()
    return f, ""


def preconditions(args):
    """A list of reasons not to run (each one says what to do)."""
    why = []
    if os.geteuid() != 0:
        why.append("must run as root (chroot, apt and dpkg in the fresh root, the lab)")
    tools = ["dpkg-buildpackage", "dh", "lintian", "nm", "objdump", "g++"]
    if args.dovecot == "2.3":
        # The host makes the Debian 12 fresh base on first use.
        tools += ["rpmbuild", "rpm", "rpmlint", "debootstrap"]
    for tool in tools:
        if not shutil.which(tool):
            why.append("%s not found: run scripts/install-deps.sh" % tool)
    return why


def build_packages(run, args, out):
    run.step("build the packages (scripts/build-packages.sh --dovecot %s --no-check)" % args.dovecot)
    shutil.rmtree(out, ignore_errors=True)
    kinds = ["--deb", "--rpm"] if args.dovecot == "2.3" else ["--deb"]
    p = subprocess.run(["bash", os.path.join(args.source, "scripts", "build-packages.sh"),
                        "--dovecot", args.dovecot] + kinds + ["--no-check", "--out", out])
    if p.returncode != 0:
        raise RuntimeError("scripts/build-packages.sh failed (exit %d)" % p.returncode)
    out = os.path.join(out, "dovecot-" + args.dovecot)
    found = {}
    for name in os.listdir(out):
        if re.match(r"^dovecot-referral_.*\.deb$", name):
            found["deb"] = os.path.join(out, name)
        elif name.endswith(".changes"):
            found["changes"] = os.path.join(out, name)
        elif name.endswith(".src.rpm"):
            found["srpm"] = os.path.join(out, name)
        elif re.match(r"^dovecot-referral-[0-9].*\.rpm$", name):
            found["rpm"] = os.path.join(out, name)
    # The RPM is built next to the host's (2.3) .deb only: the Debian 13 root
    # has no rpm (docs/packaging.md).
    wanted = {"deb", "changes"} | ({"rpm", "srpm"} if args.dovecot == "2.3" else set())
    missing = wanted - set(found)
    if missing:
        raise RuntimeError("build-packages.sh made no %s in %s" % (", ".join(sorted(missing)), out))
    return found


def static_checks(run, args, pkgs, version, dovecot_version, dovecot_abi, work):
    run.step("inspect the .deb")
    problems, deb_version = pi.check_deb(pkgs["deb"], args.source, dovecot_version, dovecot_abi,
                                         args.dovecot)
    run.add(problems)
    if deb_version != version:
        run.add(["deb: Version %s, want %s (CMakeLists.txt)" % (deb_version, version)])
    extracted = os.path.join(work, "deb-root")
    shutil.rmtree(extracted, ignore_errors=True)
    pi.run(["dpkg-deb", "-x", pkgs["deb"], extracted])
    run.add(pi.check_exports(extracted, args.dovecot))
    modules = [os.path.join(extracted, m.lstrip("/")) for m in pi.modules(args.dovecot)]
    if pi.needs_dovecot_ldap([m for m in modules if os.path.exists(m)]):
        _, depends = pi.run(["dpkg-deb", "-f", pkgs["deb"], "Depends"])
        if "dovecot-ldap (= %s)" % dovecot_version not in depends:
            run.add(["deb: a module links libdovecot-ldap but Depends lacks dovecot-ldap (= %s)"
                     % dovecot_version])

    _, lintian_version = pi.run(["lintian", "--version"], check=False)
    run.step("lintian %s (errors and warnings fail)" % lintian_version.strip())
    rc, out = pi.run(["lintian", "--fail-on", "error,warning", "--display-info",
                      pkgs["changes"]], check=False)
    print(out.rstrip() or "(lintian: no tags)")
    if rc != 0:
        run.add(["lintian exited %d (errors or warnings above)" % rc])

    if "rpm" not in pkgs:
        return
    run.step("inspect the .rpm")
    run.add(pi.check_rpm(pkgs["rpm"], version, dovecot_version))
    _, listing = pi.run(["rpm", "-qlp", pkgs["rpm"]])
    print("rpm -qlp:\n    " + "\n    ".join(listing.split()))
    run.add(pi.compare_file_sets(pkgs["deb"], pkgs["rpm"]))

    run.step("rpmlint")
    rc_file = os.path.join(args.source, "packaging", "rpm", "dovecot-referral.rpmlintrc")
    rc, out = pi.run(["rpmlint", "-r", rc_file, pkgs["rpm"], pkgs["srpm"]], check=False)
    print(out.rstrip())
    summary = re.search(r"(\d+) errors?, (\d+) warnings?", out)
    if rc != 0 or not summary or summary.group(1) != "0" or summary.group(2) != "0":
        run.add(["rpmlint: exit %d, %s (findings above; only host-related ones may be filtered "
                 "in dovecot-referral.rpmlintrc)" % (rc, summary.group(0) if summary else "?")])


def install_in_fresh_root(run, system, pkgs):
    """apt-get install of the .deb into the fresh root, so its Depends come
    from the mirror; returns what the watched paths must be after the purge:
    as now, minus the package's own paths (the Dovecot its Depends pulled in
    stays, and so do directories other packages own too)."""
    run.step("make a fresh %s root (%s)" % (system.suite, system.root))
    if system.make() != 0:
        raise RuntimeError("scripts/debian13-root.sh fresh %s %s failed"
                           % (system.root, system.suite))
    rc, out = system.output(["dpkg-query", "-W", "-f=${Package}\\n", "dovecot-core"],
                            stderr=subprocess.DEVNULL)
    if rc == 0 and out.strip():
        raise RuntimeError("the fresh root already has dovecot-core: it is not pristine")

    run.step("apt-get install %s (Depends from the mirror)" % os.path.basename(pkgs["deb"]))
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    rc, out = system.output(["apt-get", "update"], env)
    if rc != 0:
        raise RuntimeError("apt-get update in the fresh root failed:\n" + out[-3000:])
    rc, out = system.output(["apt-get", "install", "-y", "--no-install-recommends", pkgs["deb"]],
                            env)
    print("\n".join(line for line in out.splitlines()
                    if re.match(r"^(The following NEW|  \S|\d+ upgraded|Setting up "
                                r"(dovecot|libldap))", line)))
    if rc != 0:
        raise RuntimeError("apt-get install of the .deb failed (exit %d):\n%s" % (rc, out[-3000:]))
    # The lab's home servers and front also speak POP3 and LMTP (docs/protocols.md);
    # those Dovecot packages are the lab's need, not the package's Depends, so
    # they come in a second install (without them the lab's Dovecots would not
    # start).
    lab_extra = ["dovecot-pop3d", "dovecot-lmtpd"]
    rc, out = system.output(["apt-get", "install", "-y", "--no-install-recommends"] + lab_extra,
                            env)
    if rc != 0:
        raise RuntimeError("apt-get install of the lab's %s failed (exit %d):\n%s"
                           % (" ".join(lab_extra), rc, out[-3000:]))
    _, depends = pi.run(["dpkg-deb", "-f", pkgs["deb"], "Depends"])
    rc, installed = system.output(["dpkg-query", "-W", "-f=${Package} ${Version}\\n",
                                   "dovecot-core", "dovecot-imapd", pi.PKG])
    print("installed in the fresh root:\n    " + "\n    ".join(installed.split("\n")).rstrip())

    # The package's own paths: those dpkg -S names no other package for.
    _, listed = system.output(["dpkg", "-L", pi.PKG])
    ours = [line for line in listed.splitlines() if line.startswith("/")]
    _, owners = system.output(["dpkg-query", "-S"] + ours, stderr=subprocess.DEVNULL)
    shared = set()
    for line in owners.splitlines():
        pkgs_part, _, path = line.partition(": ")
        if any(o.strip().split(":")[0] != pi.PKG for o in pkgs_part.split(",")):
            shared.add(path.strip())
    exclusive = set(ours) - shared
    after_install = snapshot(system)
    return {p for p in after_install if p.split(" -> ")[0] not in exclusive}


def snippet_check(run, system, dovecot):
    """The installed conf.d/95-referral.conf, uncommented (as the docs say to
    enable it) after the system's own dovecot.conf, is a configuration
    doveconf accepts, with the referral passdb and both plugins in it; on
    2.4 that also shows that doveconf loaded the settings module
    (referral_config is its key)."""
    snippet_path = system.path("/etc/dovecot/conf.d/95-referral.conf")
    with open(snippet_path, encoding="utf-8") as f:
        enabled = re.sub(r"(?m)^(\s*)#(?!#)", r"\1", f.read())
    # Only "##" lines stay comments.  The example first passdb names a
    # passwd-file that does not exist here: give it an empty one.
    scratch = os.path.join(run.work, "snippet-check")
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    users = os.path.join(scratch, "users")
    open(users, "w").close()
    enabled = enabled.replace("/etc/dovecot/users", users)
    with open(os.path.join(scratch, "95-referral.conf"), "w", encoding="utf-8") as f:
        f.write(enabled)
    # The system's dovecot.conf, then the snippet.  A copy, not an
    # !include of it: 2.4 wants dovecot_config_version as the very first
    # setting of the file doveconf reads.  Its relative includes (conf.d/,
    # local.conf) are made absolute so the copy reads the same files.
    with open(system.path("/etc/dovecot/dovecot.conf"), encoding="utf-8") as f:
        main = re.sub(r"(?m)^(\s*!include(?:_try)?\s+)(?!/)", r"\1/etc/dovecot/", f.read())
    conf = os.path.join(scratch, "dovecot.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(main + "\n!include %s/95-referral.conf\n" % scratch)
    rc, out = system.output(["doveconf", "-n", "-c", conf])
    wanted = [r"(?m)^passdb( referral)? \{\n(  .*\n)*?  driver = referral$",
              r"(?m)^\s+skip = unauthenticated$",
              r"(?m)^\s+result_internalfail = return-fail$",
              r"(?ms)^protocol imap \{.*referral_login",
              r"(?ms)^protocol imap \{.*imap_referral"]
    missing = [w for w in wanted if not re.search(w, out)]
    if dovecot == "2.4" and rc == 0:
        # doveconf -n leaves out settings at their default value, which is
        # what the snippet sets: ask for the key itself.  Only a doveconf
        # that loaded the installed settings module knows it.
        rc, value = system.output(["doveconf", "-c", conf, "referral_config"])
        out += "\ndoveconf referral_config: " + value
        if rc != 0 or not re.search(r"(?m)^referral_config = /etc/dovecot/dovecot-referral"
                                    r"\.conf\.ext$", value):
            missing.append("referral_config = /etc/dovecot/dovecot-referral.conf.ext")
    if rc != 0 or missing:
        run.add(["the installed snippet, uncommented, is not accepted as documented (doveconf "
                 "exit %d, missing %s):\n%s" % (rc, missing, out[-3000:])])
    else:
        print("doveconf -n with the installed snippet uncommented: ok (referral passdb, "
              "login and mail plugins%s)" % (", referral_config" if dovecot == "2.4" else ""))


def installed_checks(run, system, version, dovecot):
    run.step("check the installed package")
    missing = [p for p in pi.expected_deb_files(run.source, dovecot)
               if not os.path.exists(system.path(p))]
    run.add(["installed: %s missing" % p for p in missing])
    run.add(pi.check_exports(system.root or "/", dovecot))
    rc, out = system.output(["/usr/bin/dovecot-referral-lookup", "--version"])
    print("dovecot-referral-lookup --version: exit %d: %s" % (rc, out.strip()))
    if rc != 0 or version not in out:
        run.add(["dovecot-referral-lookup --version does not show %s" % version])
    # The shipped snippet is inert: the system's Dovecot configuration must
    # still parse with the package installed.
    rc, out = system.output(["doveconf", "-n"])
    if rc != 0:
        run.add(["doveconf -n fails with the package installed:\n" + out[-2000:]])
    else:
        print("doveconf -n: ok (the installed snippet does not break Dovecot's configuration)")
    snippet_check(run, system, dovecot)


def lab_and_integration(run, args, system, lab_dir, version):
    run.step("start the lab from the installed files" +
             (" (in the fresh root)" if system.root else ""))
    p = system.run(lab_cmd(args.source, "start", "--dir", lab_dir, "--addr-base",
                           str(args.addr_base), "--plugins", "installed",
                           "--settings-file", SETTINGS), stdout=None, stderr=None)
    if p.returncode != 0:
        raise RuntimeError("lab start --plugins installed failed (exit %d)" % p.returncode)
    env_file = os.path.join(lab_dir, "lab.env")
    lab_env = {}
    for line in open(env_file, encoding="utf-8"):
        m = re.match(r"^export (\w+)=(.*)$", line.rstrip("\n"))
        if m:
            lab_env[m.group(1)] = (shlex.split(m.group(2)) or [""])[0]

    run_lab_tests(run, args, system, env_file)

    run.step("plugin log lines: the auth load line shows the version, imap-login referred")
    log = lab_env.get("FRONT_LOG", "")
    text = open(log, encoding="utf-8", errors="replace").read() if os.path.exists(log) else ""
    # The imap plugin's load line is debug since issue 13 (one imap process per
    # session); the mailbox suite above, run against the installed plugins, is
    # what shows that plugin working.
    for process in ("auth",):
        pat = re.compile(r"(^|\s)%s(\(|:).*dovecot-referral %s" % (re.escape(process),
                                                                  re.escape(version)), re.M)
        line = pat.search(text)
        print("  %-10s %s" % (process, line.group(0).strip() if line else "(no load line)"))
        if not line:
            run.add(["no 'dovecot-referral %s' load line from the %s process in %s"
                     % (version, process, log)])
    # The login plugin's load line is debug (one imap-login process per
    # connection: docs/login-plugin.md); its referral line, which only the
    # installed plugin writes (the lab has no other), shows that it ran.
    line = re.search(r"(^|\s)imap-login(\(|:).*; referral imap://\S*;AUTH=\*@", text, re.M)
    print("  %-10s %s" % ("imap-login", line.group(0).strip() if line else "(no referral line)"))
    if not line:
        run.add(["no '; referral imap://...;AUTH=*@' line from the imap-login process in %s"
                 % log])

    run.step("a front configured only with the installed snippet, enabled as documented")
    rc, out = system.output(["python3", os.path.join(HERE, "snippet_front.py"), "--lab-env",
                             env_file, "--dir", os.path.join(args.work, "snippet-front")],
                            timeout=180)
    print(out.rstrip())
    if rc != 0:
        run.add(["the front with the installed snippet enabled does not refer as documented "
                 "(tests/packaging/snippet_front.py, exit %d; output above)" % rc])


def lab_tests(build):
    """The PACKAGE_TESTS as registered in ctest (lab fixture, DREF_LAB_ENV,
    from tests/integration/{login,mailbox}): [(suite, name, command,
    environment, timeout, working directory)], and the names of PACKAGE_TESTS
    that ctest has not (or not as such a test)."""
    _, out = pi.run(["ctest", "--test-dir", build, "--show-only=json-v1", "-L", "integration"])
    found = []
    for t in json.loads(out).get("tests", []):
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        if "lab" not in props.get("FIXTURES_REQUIRED", []):
            continue
        # Only tests that talk to the lab's servers (DREF_LAB_ENV): on 2.4 some
        # tests take the lab fixture only for its settings-module link and
        # start their own fronts with the build tree's plugins.
        if not any(kv.startswith("DREF_LAB_ENV=") for kv in props.get("ENVIRONMENT", [])):
            continue
        if t["name"] not in PACKAGE_TESTS:
            continue
        cmd = t.get("command", [])
        suite = next((s for s in INTEGRATION_SUITES
                      if any("/tests/integration/%s/" % s in c for c in cmd)), None)
        if suite == PACKAGE_TESTS[t["name"]]:
            found.append((suite, t["name"], cmd, props.get("ENVIRONMENT", []),
                          float(props.get("TIMEOUT", 600)), props.get("WORKING_DIRECTORY", build)))
    missing = sorted(set(PACKAGE_TESTS) - {t[1] for t in found})
    return found, missing


def run_lab_tests(run, args, system, env_file):
    """Runs each lab test exactly as ctest would (command, ENVIRONMENT,
    WORKING_DIRECTORY, TIMEOUT), one at a time, in the system the package is
    installed in, except that DREF_LAB_ENV names the lab that loads the
    installed plugins."""
    tests, missing = lab_tests(args.build)
    run.add(["PACKAGE_TESTS names %s, which ctest has not as a lab test of tests/integration/%s"
             % (name, PACKAGE_TESTS[name]) for name in missing])
    for suite in INTEGRATION_SUITES:
        run.step("integration tests: %s (against the lab with the installed plugins)" % suite)
        mine = [t for t in tests if t[0] == suite]
        if not mine:
            run.add(["no ctest test of tests/integration/%s uses the lab fixture" % suite])
        for _, name, cmd, environment, timeout, cwd in mine:
            env = dict(kv.split("=", 1) for kv in environment if "=" in kv)
            env.update(DREF_LAB_ENV=env_file, DREF_PLUGINS="installed")
            if system.root:
                env["PWD"] = cwd
                # The build's Python may not exist in the fresh root (on the
                # host CMake can find a pyenv shim under /root): the root's
                # own python3, of the same release, runs the test then.
                if (os.path.basename(cmd[0]).startswith("python") and
                        not os.path.exists(system.path(cmd[0]))):
                    cmd = ["python3"] + cmd[1:]
            t0 = time.monotonic()
            try:
                rc, out = system.output(cmd, env, cwd=cwd, timeout=timeout)
            except subprocess.TimeoutExpired as e:
                rc, out = "timeout", (e.output or b"").decode("utf-8", "replace")
            ran = re.findall(r"^Ran (\d+) tests?", out, re.M)
            print("  %-34s %s  (%s tests, %.1fs)" % (name, "ok" if rc == 0 else "FAILED: %s" % rc,
                                                    "+".join(ran) or "?", time.monotonic() - t0),
                  flush=True)
            if rc != 0:
                print("\n".join("      | " + line for line in out.rstrip().splitlines()[-60:]))
                run.add(["integration test %s failed against the installed package (%s)"
                         % (name, rc)])


def purge_and_verify(run, system, before):
    run.step("dpkg --purge and check that nothing is left")
    p = system.run(["dpkg", "--purge", pi.PKG], stdout=None, stderr=None)
    if p.returncode != 0:
        run.add(["dpkg --purge %s failed (exit %d)" % (pi.PKG, p.returncode)])
    rc, out = system.output(["dpkg", "-L", pi.PKG])
    listed = [line for line in out.splitlines() if line.startswith("/")]
    print("dpkg -L after purge: exit %d, %d path(s)" % (rc, len(listed)))
    status = dpkg_status(system)
    if listed or status:
        run.add(["after purge dpkg still knows %s: %s" % (pi.PKG, status)])
    after = snapshot(system)
    for p in sorted(after - before):
        run.add(["left behind after purge: %s" % p])
    for p in sorted(before - after):
        run.add(["gone after purge although it was not the package's: %s" % p])
    if after == before:
        print("module dirs, /etc/dovecot, /usr/share and /usr/bin are exactly as %s"
              % ("before the install" if system.root is None
                 else "after the install minus the package's own paths"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True, help="scratch dir (packages, lab)")
    ap.add_argument("--addr-base", type=int, default=50)
    ap.add_argument("--dovecot", choices=("2.3", "2.4"),
                    help="the Dovecot the package is for (default: this system's dovecot-dev)")
    ap.add_argument("--no-install", action="store_true",
                    help="build and inspect only (no install, no lab): for a shared machine")
    args = ap.parse_args()
    args.source, args.build, args.work = map(os.path.abspath, (args.source, args.build, args.work))
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    here = local_dovecot()
    args.dovecot = args.dovecot or here
    if args.dovecot != here:
        print("REFUSING TO RUN the package install test for Dovecot %s on a system with Dovecot "
              "%s: it runs where that Dovecot is (2.3: the Debian 12 host; 2.4: the Debian 13 "
              "root, e.g. bash scripts/test.sh --dovecot 2.4)" % (args.dovecot, here or "none"))
        return 1

    run = Run()
    run.source = args.source
    run.work = args.work
    lock = None
    if not args.no_install:
        if os.geteuid() == 0:
            lock, holder = take_lock()
            if lock is None:
                print("REFUSING TO RUN the package install test: another one is running (%s, "
                      "lock %s); it installs and purges the same package" % (holder, LOCK))
                return 1
        recover(args.source)
    why = [] if args.no_install else preconditions(args)
    if why:
        print("REFUSING TO RUN the package install test:\n  - " + "\n  - ".join(why))
        return 1
    version = pi.run([sys.executable, os.path.join(HERE, "check_version.py"), "--source",
                      args.source, "--build", args.build])[1]
    print(version.rstrip())
    version = re.search(r"project\(VERSION\) = (\S+)", version).group(1)
    _, dovecot_version = pi.run(["dpkg-query", "-W", "-f=${Version}", "dovecot-dev"])
    dovecot_abi = open("/usr/share/dovecot/dovecot-abi").read().strip()
    print("dovecot-referral %s against Dovecot %s (ABI %s)" % (version, dovecot_version,
                                                               dovecot_abi))

    os.makedirs(args.work, exist_ok=True)
    lab_dir = os.path.join(args.work, "lab")
    # A fresh root of the package's release: 2.3 Debian 12, 2.4 Debian 13.
    system = System(FRESH_ROOT, FRESH_SUITE[args.dovecot])
    before = None
    started = False
    try:
        pkgs = build_packages(run, args, os.path.join(args.work, "out"))
        static_checks(run, args, pkgs, version, dovecot_version, dovecot_abi, args.work)
        if args.no_install:
            run.add(["--no-install: the package was not installed and the lab did not run"])
            return report(run)

        # From here on a killed run leaves something to undo.
        with open(RECOVERY, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "lab_dir": lab_dir, "fresh_root": system.root}, f)
        started = True
        before = install_in_fresh_root(run, system, pkgs)
        installed_checks(run, system, version, args.dovecot)
        lab_and_integration(run, args, system, lab_dir, version)
    except (Exception, Terminated) as e:
        traceback.print_exc()
        run.add(["aborted: %s: %s" % (type(e).__name__, e)])
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if started:
            cleanup(run, args, system, lab_dir, before)
    return report(run)


def cleanup(run, args, system, lab_dir, before):
    if os.path.exists(os.path.join(lab_dir, "lab.json")):
        run.step("stop the lab")
        p = system.run(lab_cmd(args.source, "stop", "--dir", lab_dir), stdout=None, stderr=None)
        if p.returncode != 0:
            run.add(["lab stop failed (exit %d)" % p.returncode])
    if before is not None:
        purge_and_verify(run, system, before)
    if system.root is not None:
        run.step("delete the fresh root")
        if os.path.lexists(system.root) and system.script("teardown") != 0:
            run.add(["scripts/debian13-root.sh teardown of %s failed" % system.root])
        if not os.path.lexists(system.root):
            os.unlink(RECOVERY)
    elif not dpkg_status(system):
        os.unlink(RECOVERY)


def report(run):
    run.summary()
    if run.problems:
        print("\nFAILED: %d problem(s):\n  - %s" % (len(run.problems), "\n  - ".join(run.problems)))
        return 1
    print("\nPASSED: packages built, inspected, installed, tested from the installed files "
          "and purged without a trace")
    return 0


if __name__ == "__main__":
    sys.exit(main())
