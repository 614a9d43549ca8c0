#!/usr/bin/env python3
"""Install test of the packages (issue 5; docs/packaging.md, "The install test").

    install_test.py --source DIR --build DIR --work DIR [--addr-base 50]

1. builds the .deb and the .rpm with scripts/build-packages.sh (unit tests
   skipped: the suite has just run them),
2. static checks: file lists, Depends (exact dovecot-core pin + ABI),
   conffiles, exported symbols (nm -D), rpm requires/configfiles, the same
   file set in both packages; lintian (errors/warnings fail) and rpmlint
   (with packaging/rpm/dovecot-referral.rpmlintrc) with their output printed,
3. dpkg -i, then checks the installed files, `dovecot-referral-lookup
   --version`, and that Dovecot's own configuration still parses,
4. starts the lab from the installed files (tests/lab/lab.py --plugins
   installed, settings in /etc/dovecot/dovecot-referral.conf.ext) and runs the
   login- and mailbox-referral integration tests against it
   (DREF_LAB_ENV=<lab>/lab.env), checks the plugins' load log lines,
5. always (finally): stops the lab, dpkg --purge, and checks nothing is left:
   dpkg -L empty, module directories and /etc/dovecot exactly as before.

Refuses to run when a plugin file is already in Dovecot's module directories
(the build-mode lab's symlink in modules/auth, or a package installed by
someone else).  A run that was killed is recovered by the next one through
the state file RECOVERY (it names the lab dir; the package is purged).
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

RECOVERY = "/var/tmp/dovecot-referral-packaging-test.json"
# Held (flock) for the whole run: one install test per machine at a time, and
# a RECOVERY file whose writer no longer holds the lock is from a dead run.
LOCK = "/var/tmp/dovecot-referral-packaging-test.lock"
SETTINGS = "/etc/dovecot/dovecot-referral.conf.ext"
WATCHED = ["/usr/lib/dovecot/modules", "/etc/dovecot", "/usr/share/dovecot-referral",
           pi.DOC_DIR, "/usr/bin/dovecot-referral-lookup",
           "/usr/share/man/man1/dovecot-referral-lookup.1.gz"]
INTEGRATION_SUITES = ("login", "mailbox")


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


def snapshot():
    """Every path (with link targets) under the watched locations."""
    seen = set()
    for top in WATCHED:
        if not os.path.lexists(top):
            continue
        if not os.path.isdir(top) or os.path.islink(top):
            seen.add(top)
            continue
        for root, dirs, files in os.walk(top):
            seen.add(root)
            for n in dirs + files:
                p = os.path.join(root, n)
                seen.add(p + (" -> " + os.readlink(p) if os.path.islink(p) else ""))
    return seen


def dpkg_status():
    """dpkg's status of the package ("ii", "rc", ...); "" when dpkg has no
    files of it (unknown, or known as not-installed: "un"/"pn")."""
    p = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pi.PKG],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    status = p.stdout.decode().strip() if p.returncode == 0 else ""
    return "" if len(status) < 2 or status[1] == "n" else status


def lab_cmd(source, *args):
    return [sys.executable, os.path.join(source, "tests", "lab", "lab.py")] + list(args)


def recover(source):
    """Undoes a run that was killed before its cleanup."""
    try:
        with open(RECOVERY, encoding="utf-8") as f:
            state = json.load(f)
    except FileNotFoundError:
        return
    print("recovering from an interrupted run (%s): %s" % (RECOVERY, state), flush=True)
    if state.get("lab_dir"):
        subprocess.run(lab_cmd(source, "stop", "--dir", state["lab_dir"]))
    if dpkg_status():
        subprocess.run(["dpkg", "--purge", pi.PKG])
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
        why.append("must run as root (dpkg -i/--purge, the lab)")
    for tool in ("dpkg-buildpackage", "dh", "lintian", "rpmbuild", "rpm", "rpmlint", "nm", "objdump"):
        if not shutil.which(tool):
            why.append("%s not found: run scripts/install-deps.sh" % tool)
    return why + system_state()


def system_state():
    """Reasons the system is not ready for dpkg -i (checked at the start and
    again right before installing: the package build takes minutes)."""
    why = []
    for path in pi.MODULES:
        if os.path.islink(path):
            why.append("%s is a symlink to %s: a lab with --plugins build is running (or was "
                       "not stopped). Stop it (python3 tests/lab/lab.py stop --dir <its dir>) "
                       "before the package test installs over it" % (path, os.readlink(path)))
        elif os.path.exists(path):
            why.append("%s exists: remove whatever put it there before the package test" % path)
    if dpkg_status():
        why.append("package %s is installed (%s) and not by this test: purge it first "
                   "(dpkg --purge %s)" % (pi.PKG, dpkg_status(), pi.PKG))
    return why


def build_packages(run, args, out):
    run.step("build the packages (scripts/build-packages.sh --no-check)")
    shutil.rmtree(out, ignore_errors=True)
    p = subprocess.run(["bash", os.path.join(args.source, "scripts", "build-packages.sh"),
                        "--no-check", "--out", out])
    if p.returncode != 0:
        raise RuntimeError("scripts/build-packages.sh failed (exit %d)" % p.returncode)
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
    missing = {"deb", "changes", "rpm", "srpm"} - set(found)
    if missing:
        raise RuntimeError("build-packages.sh made no %s in %s" % (", ".join(sorted(missing)), out))
    return found


def static_checks(run, args, pkgs, version, dovecot_version, dovecot_abi, work):
    run.step("inspect the .deb")
    problems, deb_version = pi.check_deb(pkgs["deb"], args.source, dovecot_version, dovecot_abi)
    run.add(problems)
    if deb_version != version:
        run.add(["deb: Version %s, want %s (CMakeLists.txt)" % (deb_version, version)])
    extracted = os.path.join(work, "deb-root")
    shutil.rmtree(extracted, ignore_errors=True)
    pi.run(["dpkg-deb", "-x", pkgs["deb"], extracted])
    run.add(pi.check_exports(extracted))
    modules = [os.path.join(extracted, m.lstrip("/")) for m in pi.MODULES]
    if pi.needs_dovecot_ldap([m for m in modules if os.path.exists(m)]):
        _, depends = pi.run(["dpkg-deb", "-f", pkgs["deb"], "Depends"])
        if "dovecot-ldap (= %s)" % dovecot_version not in depends:
            run.add(["deb: a module links libdovecot-ldap but Depends lacks dovecot-ldap (= %s)"
                     % dovecot_version])

    run.step("lintian (errors and warnings fail)")
    rc, out = pi.run(["lintian", "--fail-on", "error,warning", "--display-info",
                      pkgs["changes"]], check=False)
    print(out.rstrip() or "(lintian: no tags)")
    if rc != 0:
        run.add(["lintian exited %d (errors or warnings above)" % rc])

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


def installed_checks(run, version):
    run.step("check the installed package")
    missing = [p for p in pi.expected_deb_files(run.source) if not os.path.exists(p)]
    run.add(["installed: %s missing" % p for p in missing])
    run.add(pi.check_exports("/"))
    rc, out = pi.run(["/usr/bin/dovecot-referral-lookup", "--version"], check=False)
    print("dovecot-referral-lookup --version: exit %d: %s" % (rc, out.strip()))
    if rc != 0 or version not in out:
        run.add(["dovecot-referral-lookup --version does not show %s" % version])
    # The shipped snippet is inert: the system's Dovecot configuration must
    # still parse with the package installed.
    rc, out = pi.run(["doveconf", "-n"], check=False)
    if rc != 0:
        run.add(["doveconf -n fails with the package installed:\n" + out[-2000:]])
    else:
        print("doveconf -n: ok (the installed snippet does not break Dovecot's configuration)")


def lab_and_integration(run, args, lab_dir, version):
    run.step("start the lab from the installed files")
    p = subprocess.run(lab_cmd(args.source, "start", "--dir", lab_dir, "--addr-base",
                               str(args.addr_base), "--plugins", "installed",
                               "--settings-file", SETTINGS))
    if p.returncode != 0:
        raise RuntimeError("lab start --plugins installed failed (exit %d)" % p.returncode)
    env_file = os.path.join(lab_dir, "lab.env")
    lab_env = {}
    for line in open(env_file, encoding="utf-8"):
        m = re.match(r"^export (\w+)=(.*)$", line.rstrip("\n"))
        if m:
            lab_env[m.group(1)] = (shlex.split(m.group(2)) or [""])[0]

    run_lab_tests(run, args, env_file)

    run.step("plugin log lines: auth and imap load lines show the version, imap-login referred")
    log = lab_env.get("FRONT_LOG", "")
    text = open(log, encoding="utf-8", errors="replace").read() if os.path.exists(log) else ""
    for process in ("auth", "imap"):
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
    line = re.search(r"(^|\s)imap-login(\(|:).*login referral to imap://\S*;AUTH=\*@", text, re.M)
    print("  %-10s %s" % ("imap-login", line.group(0).strip() if line else "(no referral line)"))
    if not line:
        run.add(["no 'login referral to imap://...;AUTH=*@' line from the imap-login process in %s"
                 % log])


def lab_tests(build):
    """The integration tests registered in ctest that run against the lab
    fixture, from tests/integration/{login,mailbox}: [(suite, name, command,
    environment, timeout)].  Tests with private fronts loading plugins from
    the build tree do not use the lab and are not a test of the package."""
    _, out = pi.run(["ctest", "--test-dir", build, "--show-only=json-v1", "-L", "integration"])
    found = []
    for t in json.loads(out).get("tests", []):
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        if "lab" not in props.get("FIXTURES_REQUIRED", []):
            continue
        cmd = t.get("command", [])
        suite = next((s for s in INTEGRATION_SUITES
                      if any("/tests/integration/%s/" % s in c for c in cmd)), None)
        if suite:
            found.append((suite, t["name"], cmd, props.get("ENVIRONMENT", []),
                          float(props.get("TIMEOUT", 600)), props.get("WORKING_DIRECTORY", build)))
    return found


def run_lab_tests(run, args, env_file):
    """Runs each lab test exactly as ctest would (command, ENVIRONMENT,
    WORKING_DIRECTORY, TIMEOUT), one at a time, except that DREF_LAB_ENV
    names the lab that loads the installed plugins."""
    tests = lab_tests(args.build)
    for suite in INTEGRATION_SUITES:
        run.step("integration tests: %s (against the lab with the installed plugins)" % suite)
        mine = [t for t in tests if t[0] == suite]
        if not mine:
            run.add(["no ctest test of tests/integration/%s uses the lab fixture" % suite])
        for _, name, cmd, environment, timeout, cwd in mine:
            env = dict(os.environ)
            env.update(kv.split("=", 1) for kv in environment if "=" in kv)
            env.update(DREF_LAB_ENV=env_file, DREF_PLUGINS="installed")
            t0 = time.monotonic()
            try:
                p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=timeout)
                rc, out = p.returncode, p.stdout.decode("utf-8", "replace")
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


def purge_and_verify(run, before):
    run.step("dpkg --purge and check that nothing is left")
    p = subprocess.run(["dpkg", "--purge", pi.PKG])
    if p.returncode != 0:
        run.add(["dpkg --purge %s failed (exit %d)" % (pi.PKG, p.returncode)])
    rc, out = pi.run(["dpkg", "-L", pi.PKG], check=False)
    listed = [line for line in out.splitlines() if line.startswith("/")]
    print("dpkg -L after purge: exit %d, %d path(s)" % (rc, len(listed)))
    if listed or dpkg_status():
        run.add(["after purge dpkg still knows %s: %s" % (pi.PKG, dpkg_status())])
    after = snapshot()
    for p in sorted(after - before):
        run.add(["left behind after purge: %s" % p])
    for p in sorted(before - after):
        run.add(["gone after purge although it existed before the install: %s" % p])
    if after == before:
        print("module dirs, /etc/dovecot, /usr/share and /usr/bin are exactly as before the install")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True, help="scratch dir (packages, lab)")
    ap.add_argument("--addr-base", type=int, default=50)
    ap.add_argument("--no-install", action="store_true",
                    help="build and inspect only (no dpkg -i, no lab): for a shared machine")
    args = ap.parse_args()
    args.source, args.build, args.work = map(os.path.abspath, (args.source, args.build, args.work))
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    run = Run()
    run.source = args.source
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
    before = None
    try:
        pkgs = build_packages(run, args, os.path.join(args.work, "out"))
        static_checks(run, args, pkgs, version, dovecot_version, dovecot_abi, args.work)
        if args.no_install:
            run.add(["--no-install: the package was not installed and the lab did not run"])
            return report(run)

        run.step("dpkg -i " + os.path.basename(pkgs["deb"]))
        why = system_state()
        if why:
            raise RuntimeError("the system changed during the build; not installing:\n  - "
                               + "\n  - ".join(why))
        before = snapshot()
        with open(RECOVERY, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "lab_dir": lab_dir}, f)
        p = subprocess.run(["dpkg", "-i", pkgs["deb"]])
        if p.returncode != 0:
            raise RuntimeError("dpkg -i failed (exit %d)" % p.returncode)
        installed_checks(run, version)
        lab_and_integration(run, args, lab_dir, version)
    except (Exception, Terminated) as e:
        traceback.print_exc()
        run.add(["aborted: %s: %s" % (type(e).__name__, e)])
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if before is not None:
            run.step("stop the lab")
            if os.path.exists(os.path.join(lab_dir, "lab.json")):
                p = subprocess.run(lab_cmd(args.source, "stop", "--dir", lab_dir))
                if p.returncode != 0:
                    run.add(["lab stop failed (exit %d)" % p.returncode])
            purge_and_verify(run, before)
            if not dpkg_status():
                os.unlink(RECOVERY)
    return report(run)


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
