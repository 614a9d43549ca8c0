#!/usr/bin/env python3
"""Renders the tables of a perf.sh run (DIR/perf-results/*.json) as the
markdown of docs/benchmarks.md's results section.

    make_report.py RESULTS_DIR
"""
import json
import os
import sys

import bench_login
import bench_mailbox
import bench_proxy
import faults
import load_mixed

PARTS = [
    ("bench-login", "1. Login referrals", bench_login.report),
    ("bench-proxy", "2. Referral vs proxy", bench_proxy.report),
    ("bench-mailbox", "3. Mailbox referrals", bench_mailbox.report),
    ("load", "5. Load: 10,000 mixed logins at concurrency 50", load_mixed.report),
    ("faults", "6. Faults", faults.report),
]


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    out = []
    for name, title, report in PARTS:
        path = os.path.join(argv[1], name + ".json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        out.append("### %s\n\nRun: %s.\n\n%s" % (title, data.get("machine", "?"), report(data)))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
