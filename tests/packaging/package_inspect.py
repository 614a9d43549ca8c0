"""Static checks of the built packages (no installation): file lists,
dependencies, conffiles, exported symbols, and the .deb <-> .rpm file-set
comparison.  Used by install_test.py; every function returns a list of
problems (empty = fine) and prints what it looked at.
"""
import glob
import os
import re
import subprocess

PKG = "dovecot-referral"
DEB_MODULEDIR = "/usr/lib/dovecot/modules"
# Debian path -> Dovecot module name (file name minus lib, NN_ and .so).
MODULES = {
    DEB_MODULEDIR + "/auth/libauthdb_referral.so": "authdb_referral",
    DEB_MODULEDIR + "/login/lib95_referral_login_plugin.so": "referral_login_plugin",
    DEB_MODULEDIR + "/lib95_imap_referral_plugin.so": "imap_referral_plugin",
}
# Dovecot 2.4 only: the settings module its config process loads from
# <moduledir>/settings (config-parser.c config_parse_load_modules()).
SETTINGS_MODULE = DEB_MODULEDIR + "/settings/libdovecot_referral_settings.so"
CONFFILES = {"/etc/dovecot/conf.d/95-referral.conf", "/etc/dovecot/dovecot-referral.conf.ext"}
# The referral-directory service program, in Dovecot's libexec directory
# (Fedora: /usr/libexec/dovecot).
DEB_SERVICE = "/usr/lib/dovecot/referral-directory"
LINTIAN_OVERRIDES = "/usr/share/lintian/overrides/" + PKG
DOC_DIR = "/usr/share/doc/" + PKG
# The loader looks these up (src/lib/module-dir.c); init/deinit/version are
# required by our contract, the other two are optional.
REQUIRED_SUFFIXES = ("_init", "_deinit", "_version")
OPTIONAL_SUFFIXES = ("_dependencies", "_binary_dependency")
# A settings module: config-parser.c reads <name>_set_infos, module-dir.c
# <name>_version; the other names are what either of them may also look up.
SETTINGS_REQUIRED_SUFFIXES = ("_set_infos", "_version")
SETTINGS_OPTIONAL_SUFFIXES = ("_init", "_deinit", "_dependencies", "_binary_dependency",
                              "_config_import", "_services_array", "_service_settings",
                              "_service_settings_defaults", "_doveconf_banner")


def modules(dovecot):
    """{Debian path: module name} of every module the package for Dovecot
    `dovecot` ("2.3" or "2.4") ships."""
    found = dict(MODULES)
    if dovecot == "2.4":
        found[SETTINGS_MODULE] = "dovecot_referral_settings"
    return found


def run(cmd, check=True, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    out = p.stdout.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s" % (" ".join(cmd), p.returncode, out))
    return p.returncode, out


def expected_deb_files(source, dovecot):
    """Every regular file the .deb must contain, derived from the source tree
    so a new docs/*.md does not need a test change."""
    files = set(modules(dovecot)) | CONFFILES | {
        DEB_SERVICE,
        # The lintian overrides (packaging/debian/*.lintian-overrides): the
        # service's RUNPATH, on 2.4 also the settings module.
        LINTIAN_OVERRIDES,
        "/usr/bin/dovecot-referral-lookup",
        "/usr/share/man/man1/dovecot-referral-lookup.1.gz",
        "/usr/share/dovecot-referral/imapreferral.schema",
        "/usr/share/dovecot-referral/imapreferral.ldif",
        DOC_DIR + "/copyright", DOC_DIR + "/changelog.gz",
    }
    docs = glob.glob(os.path.join(source, "docs", "*.md")) + [os.path.join(source, "README.md")]
    files |= {DOC_DIR + "/" + os.path.basename(d) for d in docs if os.path.exists(d)}
    return files


def deb_files(deb):
    """{path: type char} from dpkg-deb -c ('-' file, 'd' dir, 'l' link)."""
    _, out = run(["dpkg-deb", "-c", deb])
    entries = {}
    for line in out.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        path = parts[5].split(" -> ")[0]
        if path.startswith("./"):
            path = path[1:]
        entries[path.rstrip("/") or "/"] = line[0]
    return entries


def rpm_files(rpm):
    _, out = run(["rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\n]", rpm])
    entries = {}
    for line in out.splitlines():
        if " " in line:
            mode, path = line.split(" ", 1)
            entries[path] = mode[0]
    return entries


def rpm_to_deb_path(path):
    """Maps an RPM (Fedora layout) path to the Debian path of the same file;
    None for files that exist only because of RPM conventions."""
    if path == "/usr/libexec/dovecot/referral-directory":
        return DEB_SERVICE
    m = re.match(r"^/usr/lib(?:64)?/dovecot/(.*)$", path)
    if m:
        return DEB_MODULEDIR + "/" + m.group(1)
    # Fedora: /usr/share/licenses/NAME/, Debian's rpm: .../NAME-VERSION/.
    if re.match(r"^/usr/share/licenses/%s(-[^/]+)?/LICENSE$" % PKG, path):
        return DOC_DIR + "/copyright"  # %license <-> Debian's copyright file
    if path.startswith("/usr/lib/.build-id/"):
        return None
    return path


def check_deb(deb, source, dovecot_version, dovecot_abi, dovecot):
    problems = []
    entries = deb_files(deb)
    files = {p for p, t in entries.items() if t == "-"}
    print("dpkg-deb -c %s: %d files" % (os.path.basename(deb), len(files)))
    for p in sorted(files):
        print("    " + p)
    want = expected_deb_files(source, dovecot)
    for p in sorted(want - files):
        problems.append("deb: missing %s" % p)
    for p in sorted(files - want):
        problems.append("deb: unexpected file %s" % p)
    for p, t in entries.items():
        if t == "l":
            problems.append("deb: symlink %s (none expected)" % p)

    _, depends = run(["dpkg-deb", "-f", deb, "Depends"])
    depends = depends.strip()
    print("Depends: " + depends)
    deps = [d.strip() for d in depends.split(",")]
    for want_dep in ("dovecot-core (= %s)" % dovecot_version, "dovecot-abi-%s" % dovecot_abi,
                     "dovecot-imapd (= %s)" % dovecot_version):
        if want_dep not in deps:
            problems.append("deb: Depends lacks %r" % want_dep)
    # libldap is dlopen()ed (ldap/client/ldap_api.h), invisible to
    # dpkg-shlibdeps: debian/rules adds the package that ships it.
    # Debian 12: libldap-2.5-0, Debian 13: libldap2.
    if not any(re.match(r"libldap[-0-9.]*[0-9] \(>= [0-9]", d) for d in deps):
        problems.append("deb: Depends lacks the libldap package (libldap-X.Y-N or libldapN "
                        "(>= version))")
    # The login, imap and auth plugins link the C++ runtime statically: Built-Using
    # must name the gcc source of the building release (Policy 7.8).
    _, built_using = run(["dpkg-deb", "-f", deb, "Built-Using"])
    print("Built-Using: " + built_using.strip())
    gcc = "gcc-%s" % gcc_major()
    if not re.match(r"^%s \(= [^)]+\)$" % re.escape(gcc), built_using.strip()):
        problems.append("deb: Built-Using is %r, want %s (= <version>) (the gcc the C++ runtime "
                        "was linked from)" % (built_using.strip(), gcc))

    _, version = run(["dpkg-deb", "-f", deb, "Version"])
    _, conffiles = run(["dpkg-deb", "--info", deb, "conffiles"], check=False)
    got = {c.strip() for c in conffiles.splitlines() if c.strip().startswith("/")}
    print("conffiles: " + " ".join(sorted(got)))
    if got != CONFFILES:
        problems.append("deb: conffiles are %s, want %s" % (sorted(got), sorted(CONFFILES)))
    return problems, version.strip()


def needs_dovecot_ldap(paths):
    for p in paths:
        _, out = run(["objdump", "-p", p], check=False)
        if re.search(r"NEEDED\s+libdovecot-ldap\.so", out):
            return True
    return False


def gcc_major():
    """Major version of the default g++ of this system (12 on Debian 12, 14
    on Debian 13): the package builds with it."""
    _, out = run(["g++", "-dumpversion"])
    return out.strip().split(".")[0]


def check_exports(root, dovecot):
    """nm -D of each module under root (an extracted or installed tree) must
    show exactly the loader's C entry points, unmangled."""
    problems = []
    for path, module in sorted(modules(dovecot).items()):
        full = os.path.join(root, path.lstrip("/"))
        if not os.path.exists(full):
            problems.append("exports: %s not found" % full)
            continue
        _, out = run(["nm", "-D", "--defined-only", full])
        names = {line.split()[-1] for line in out.splitlines() if line.strip()}
        required, optional = REQUIRED_SUFFIXES, OPTIONAL_SUFFIXES
        if path == SETTINGS_MODULE:
            required, optional = SETTINGS_REQUIRED_SUFFIXES, SETTINGS_OPTIONAL_SUFFIXES
        allowed = {module + s for s in required + optional}
        print("nm -D %s: %s" % (path, " ".join(sorted(names))))
        for s in required:
            if module + s not in names:
                problems.append("exports: %s lacks %s%s" % (path, module, s))
        extra = sorted(names - allowed)
        if extra:
            problems.append("exports: %s exports %d other symbol(s): %s" % (
                path, len(extra), " ".join(extra[:8]) + (" ..." if len(extra) > 8 else "")))
    return problems


def check_rpm(rpm, version, dovecot_version):
    problems = []
    _, got_version = run(["rpm", "-qp", "--qf", "%{VERSION}", rpm])
    if got_version.strip() != version:
        problems.append("rpm: Version %s, want %s" % (got_version.strip(), version))
    _, requires = run(["rpm", "-qp", "--requires", rpm])
    print("rpm -qp --requires:\n    " + "\n    ".join(requires.split("\n")).rstrip())
    pin = re.compile(r"^dovecot(\(x86-64\))? = %s$" % re.escape(dovecot_version))
    if not any(pin.match(r.strip()) for r in requires.splitlines()):
        problems.append("rpm: no 'Requires: dovecot%%{?_isa} = %s'" % dovecot_version)
    _, config = run(["rpm", "-qp", "--configfiles", rpm])
    got = {c.strip() for c in config.splitlines() if c.strip()}
    print("rpm -qp --configfiles: " + " ".join(sorted(got)))
    if got != CONFFILES:
        problems.append("rpm: config files are %s, want %s" % (sorted(got), sorted(CONFFILES)))
    return problems


def compare_file_sets(deb, rpm):
    """rpm -qlp (mapped to Debian paths) must list the same files as dpkg -c.
    Allowed differences: Debian's changelog.gz (an RPM keeps its changelog
    in the header), the lintian overrides and RPM-only build-id links."""
    debf = {p for p, t in deb_files(deb).items() if t == "-"}
    rpmf = {}
    for p, t in rpm_files(rpm).items():
        if t == "-":
            mapped = rpm_to_deb_path(p)
            if mapped:
                rpmf[mapped] = p
    only_deb = sorted(debf - set(rpmf) - {DOC_DIR + "/changelog.gz", LINTIAN_OVERRIDES})
    only_rpm = sorted(rpmf[p] for p in set(rpmf) - debf)
    print("file sets: %d in the .deb, %d in the .rpm (mapped to Debian paths)"
          % (len(debf), len(rpmf)))
    for p in sorted(rpmf):
        if rpmf[p] != p:
            print("    %s  <->  %s" % (rpmf[p], p))
    return (["file sets: only in the .deb: %s" % p for p in only_deb] +
            ["file sets: only in the .rpm: %s" % p for p in only_rpm])
