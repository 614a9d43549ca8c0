#!/usr/bin/env python3
"""The version lives in one place, project(dovecot-referral VERSION x.y.z) in
the top-level CMakeLists.txt.  This test fails when anything that restates
it disagrees: packaging/debian/changelog (top entry), the RPM spec (Version:
and its newest %changelog entry), the generated dref_version.h, and, when
given, `dovecot-referral-lookup --version`.

    check_version.py --source DIR --build DIR [--lookup PATH]
"""
import argparse
import os
import re
import subprocess
import sys


def project_version(source):
    text = open(os.path.join(source, "CMakeLists.txt"), encoding="utf-8").read()
    m = re.search(r"^project\(dovecot-referral\s+VERSION\s+([0-9][0-9.]*)", text, re.M)
    if not m:
        raise SystemExit("no project(dovecot-referral VERSION x.y.z) in CMakeLists.txt")
    return m.group(1)


def debian_version(source):
    with open(os.path.join(source, "packaging", "debian", "changelog"), encoding="utf-8") as f:
        first = f.readline()
    m = re.match(r"^dovecot-referral \(([^)]+)\) ", first)
    return m.group(1) if m else "(unparsable first line: %r)" % first


def rpm_versions(source):
    text = open(os.path.join(source, "packaging", "rpm", "dovecot-referral.spec"),
                encoding="utf-8").read()
    version = re.search(r"^Version:\s*(\S+)", text, re.M)
    # First %changelog entry: "* Day Mon DD YYYY Name <mail> - VERSION-RELEASE"
    log = re.search(r"^%changelog\s*\n\*.* - ([^\s-]+)-\S+\s*$", text, re.M)
    return (version.group(1) if version else "(no Version:)",
            log.group(1) if log else "(no %changelog entry)")


def header_version(build):
    path = os.path.join(build, "generated", "dref_version.h")
    m = re.search(r'#define DREF_VERSION "([^"]*)"', open(path, encoding="utf-8").read())
    return m.group(1) if m else "(no DREF_VERSION in %s)" % path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--lookup", help="dovecot-referral-lookup binary to ask for --version")
    args = ap.parse_args()

    want = project_version(args.source)
    spec_version, spec_log = rpm_versions(args.source)
    found = [
        ("packaging/debian/changelog", debian_version(args.source)),
        ("packaging/rpm/dovecot-referral.spec Version", spec_version),
        ("packaging/rpm/dovecot-referral.spec %changelog", spec_log),
        ("generated/dref_version.h", header_version(args.build)),
    ]
    if args.lookup:
        out = subprocess.run([args.lookup, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=10)
        text = out.stdout.decode("utf-8", "replace").strip()
        m = re.search(r"\b(\d+\.\d+\.\d+)\b", text)
        found.append(("dovecot-referral-lookup --version (exit %d: %r)" % (out.returncode, text),
                      m.group(1) if m and out.returncode == 0 else "(none)"))
    bad = 0
    print("project(VERSION) = %s" % want)
    for where, got in found:
        ok = got == want
        bad += not ok
        print("  %-4s %s: %s" % ("ok" if ok else "BAD", where, got))
    if bad:
        print("%d place(s) disagree with CMakeLists.txt; bump them together "
              "(docs/packaging.md, 'Version')" % bad)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
