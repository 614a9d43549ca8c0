#!/usr/bin/env python3
"""Benchmark 3 (issue 6): mailbox referrals (the imap plugin).

Two fronts next to the lab: "mailbox" (passwd-file + the imap plugin, its
own settings file: shared base an empty OU, ldap_timeout 30s,
mailbox_max_entries 200000) and "plain" (the same Dovecot without the
plugin).  Users mb0, mb1k, mb10k, mb100k have 0 / 1,000 / 10,000 / 100,000
personal remote mailboxes in LDAP; mblocal has 10,000 local Maildir folders
on the plain front.  Every user's INBOX holds one message on both fronts.

  select   SELECT INBOX latency (after the table is loaded): plain/mb0 (plugin
           absent), mailbox/mb0 (0 entries), mailbox/mb100k (100k entries)
  rlist    RLIST "" "*" for mb10k (10k remote entries) vs LIST "" "*" for
           mblocal on the plain front (10k local mailboxes)
  start    session start, LOGIN sent to the tagged reply of the first
           SELECT INBOX, against plain/mb1k (plugin absent):
           - "service" (the shipped configuration: the referral-directory
             service, docs/directory-service.md), cached (the service holds
             the user's answer: no LDAP) and, on "service-nocache" (the same
             with cache_size = 0), directory asked (the service's LDAP
             connection searches for every session);
             Both have the home server's referral passdb after passwd-file
             (block 1 of conf.d/95-referral.conf: it decides "served here"
             and tells the service to prefetch the user's remote mailboxes,
             docs/directory-service.md section 6); "service-noprefetch" is
             service-nocache with mailbox_prefetch_at_login = no.
             --no-home-passdb: passwd-file only, no prefetch (as before);
           - "mailbox" (mailbox_directory_service empty: each imap process
             connects, binds and searches itself);
           - "cache" (mailbox's settings plus mailbox_cache_dir): cold (the
             user's cache file removed before each session: LDAP as without
             the cache, plus the file write) and warm (the file the previous
             session wrote: no LDAP at all)
  memory   RSS of the imap process with the table of mb100k (and mb10k)
           loaded minus RSS with mb0's, per entry

    bench_mailbox.py --env LAB_ENV --work DIR [--quick] [--full-sizes]
                     [--parts memory,select,rlist,start] [--compare-plugin SO]
                     [--plugin SO] [--service PROGRAM] [--compare-service PROGRAM]
                     [--compare-service-plugin SO] [--compare-cached]
                     [--start-rounds N] [--start-every K] [--json OUT]

DREF_BENCH_EXTRA (environment): Dovecot settings appended to the service and
cache fronts' configuration, e.g. "mail_debug = yes" to have each session
log how long its table took (event dref_remote_mailboxes_loaded).

--parts runs only the named measurements; --full-sizes keeps the 10k and
100k entry users with --quick (bytes per entry from 2k/5k entries are
dominated by the heap's granularity).  --compare-plugin adds a third front,
"before", whose imap plugin is another build's lib95_imap_referral_plugin.so
(e.g. the commit before a change): select and memory then measure both
builds in the same run.  --plugin takes the "mailbox" front's imap plugin
from that file instead of the lab's plugins (a lab started with --plugins
none then suffices: no passdb driver link, which is one per machine).
--compare-service adds a front "service-before" (cache_size = 0) whose
referral-directory is another build's program: start measures "directory
asked" with both programs, interleaved, in one run.  --compare-service-plugin
gives that front another build's imap plugin as well (a change on both
sides of the service's socket, compared in one run); --compare-cached adds
"service-before-cached", the "cached" cases with that build's programs.

Session start runs --start-rounds rounds (default 150); each round runs one
session of every case, in an order rotated from round to round, except that
the cases outside item 4's targets (no prefetch, no service, cache dir) run
in every --start-every-th round only (default 5: 30 sessions each; before
issue 13's session 12 every case ran 60 times): for the same spread of
single differences the interval is sqrt(150/60) = 1.6 times narrower, for
about 1.33 times the sessions of the 60 rounds of every case (960 against
720 with the cache front).  Besides each case's p50/p90 the
report gives the median of the per-round differences against plugin absent
with its 95 % interval, for the whole session start and split into LOGIN →
tagged OK and OK → SELECT's tagged reply, and the load average before and
after.
"""
import os
import re
import shutil
import sys
import time

import perf_common as pc
import perf_data
from imap_client import ImapClient
from lab_dovecot import conf_passdb_referral, is_24
from paired_stats import median_ci
from perf_fronts import BenchFront, ensure_auth_module


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def imap_pids(front):
    return [p for p, comm, _ in pc.group_processes(front.pid) if comm == "imap"]


def login(front, user):
    c = ImapClient.connect(front.addr, front.port, timeout=60)
    _, t = c.command("a", "LOGIN %s pw-%s" % (user, user))
    if not t.startswith(b"a OK"):
        raise pc.PerfError("LOGIN %s at %s: %r" % (user, front.name, t))
    return c


def timed(c, tag, cmd):
    t0 = time.perf_counter()
    untagged, t = c.command(tag, cmd)
    dt = (time.perf_counter() - t0) * 1000.0
    if b" OK" not in t[:len(tag) + 4]:
        raise pc.PerfError("%s: %r" % (cmd, t))
    return dt, untagged


def wait_no_imap(front):
    pc.wait_for(lambda: not imap_pids(front), 10)


def p(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


def known_setting_keys(plugin_so):
    """The settings keys the build of plugin_so knows: those of its source
    tree's sample settings file (every key is documented there), found
    through the build directory's CMakeCache.txt.  None when not found."""
    d = os.path.dirname(os.path.realpath(plugin_so))
    while d != os.path.dirname(d):
        cache = os.path.join(d, "CMakeCache.txt")
        if os.path.exists(cache):
            with open(cache, encoding="utf-8") as f:
                m = re.search(r"(?m)^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", f.read())
            if not m:
                return None
            sample = os.path.join(m.group(1), "conf.d", "dovecot-referral.conf.ext")
            with open(sample, encoding="utf-8") as f:
                return set(re.findall(r"(?m)^#?([a-z_]+) *=", f.read()))
        d = os.path.dirname(d)
    return None


class ComparePluginFront(BenchFront):
    """A "mailbox" front whose imap plugin is another build's module.  With
    older_settings, settings keys that build does not know (added since) are
    left out of its settings file, which it would otherwise refuse."""

    def __init__(self, *args, plugin_so, older_settings=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.plugin_so = plugin_so
        self.older_settings = older_settings

    def _include(self):
        text = super()._include()
        keys = known_setting_keys(self.plugin_so) if self.older_settings else None
        if keys:
            with open(self.settings_file, encoding="utf-8") as f:
                lines = f.readlines()
            kept = [l for l in lines if not re.match(r"[a-z_]+ *=", l)
                    or l.split("=")[0].strip() in keys]
            for l in lines:
                if l not in kept:
                    pc.log("%s: setting left out (unknown to that build): %s" % (self.name,
                                                                               l.strip()))
            with open(self.settings_file, "w", encoding="utf-8") as f:
                f.writelines(kept)
        mdir = os.path.join(self.dir, "compare-plugin")
        os.makedirs(mdir, exist_ok=True)
        link = os.path.join(mdir, os.path.basename(self.plugin_so))
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.realpath(self.plugin_so), link)
        text, n = re.subn(r"(?m)^mail_plugin_dir = .*$", "mail_plugin_dir = %s" % mdir, text,
                          count=1)
        if n != 1:
            raise pc.PerfError("compare front: no mail_plugin_dir line to replace")
        return text


def bench_select(fronts, rounds, reps):
    cases = [("plugin absent", "plain", "mb0"), ("plugin, 0 entries", "mailbox", "mb0"),
             ("plugin, 100k entries", "mailbox", "mb100k")]
    if "before" in fronts:
        cases += [("before: plugin, 0 entries", "before", "mb0"),
                  ("before: plugin, 100k entries", "before", "mb100k")]
    out = {c[0]: [] for c in cases}
    for r in range(rounds):
        for name, fr, user in cases:
            c = login(fronts[fr], user)
            timed(c, "w", "SELECT INBOX")  # waits for the table
            lat = [timed(c, "s%d" % i, "SELECT INBOX")[0] for i in range(reps)]
            c.command("z", "LOGOUT")
            c.close()
            out[name].append({"p50": p(lat, 0.5), "p99": p(lat, 0.99), "mean": sum(lat) / len(lat)})
            pc.log("select round %d %-22s p50 %.3f ms p99 %.3f ms" % (
                r, name, out[name][-1]["p50"], out[name][-1]["p99"]))
            wait_no_imap(fronts[fr])
    return out


def bench_rlist(fronts, rounds, reps, n_remote):
    cases = [("RLIST, %d remote" % n_remote, "mailbox", "mb10k", 'RLIST "" "*"'),
             ("LIST, %d local (plain)" % n_remote, "plain", "mblocal", 'LIST "" "*"')]
    out = {c[0]: [] for c in cases}
    for r in range(rounds):
        for name, fr, user, cmd in cases:
            c = login(fronts[fr], user)
            timed(c, "w", "SELECT INBOX")
            lat, lines = [], 0
            for i in range(reps):
                dt, untagged = timed(c, "l%d" % i, cmd)
                lat.append(dt)
                lines = len(untagged)
            c.command("z", "LOGOUT")
            c.close()
            out[name].append({"p50": p(lat, 0.5), "min": min(lat), "lines": lines})
            pc.log("list round %d %-24s p50 %.1f ms (%d lines)" % (r, name, out[name][-1]["p50"],
                                                                   lines))
            wait_no_imap(fronts[fr])
    return out


def service_conf(program, settings_file, home_passdb=False):
    """The referral-directory service block of conf.d/95-referral.conf
    (block 4), with this build's program.  home_passdb: also block 1's
    referral passdb after the lab's passwd-file one (a home server of the
    shipped configuration decides "served here" at every login, and tells
    the service to prefetch), and the auth process in the socket's group."""
    user = "$SET:default_internal_user" if is_24() else "$default_internal_user"
    # The bench fronts' imap processes run with gid 65534 (nogroup), as the lab's.
    text = ("service referral-directory {\n  executable = %s %s\n  user = %s\n"
            "  process_limit = 1\n  unix_listener referral-directory {\n    mode = 0660\n"
            "    group = nogroup\n  }\n}\n" % (program, settings_file, user))
    if home_passdb:
        text += conf_passdb_referral(settings_file, "  skip = unauthenticated\n"
                                                    "  result_internalfail = return-fail")
        # The shipped listener's group is $default_internal_group, the auth
        # process's own; the bench keeps the lab's nogroup for the imap
        # processes and gives it to the auth process too.
        text += "service auth {\n  extra_groups = nogroup\n}\n"
    return text + os.environ.get("DREF_BENCH_EXTRA", "")


# The cases item 4's targets (issue 13) are about, and the A/B cases of
# --compare-service: they run in every round of session start, the others
# (comparisons with the older configurations) in every --start-every-th one.
START_TARGET_CASES = ("plugin absent", "service, 0 entries, cached", "service, 1k entries, cached",
                      "service, 0 entries, directory asked",
                      "service, 1k entries, directory asked")


def start_round_order(cases, r):
    """The cases of round r: a rotation, reversed in every odd round (as
    bench_login.round_order), so that no case always runs right after the
    same other one or at the same place in the round."""
    k = (r // 2) % len(cases)
    order = cases[k:] + cases[:k]
    return order[::-1] if r % 2 else order


def bench_start(fronts, rounds, every):
    # (plugin with 0 entries separates the fixed cost of a table load, LDAP
    # connect + bind + 3 searches, from the cost of 1,000 entries; "cold"
    # and "warm" are the cache front with and without the user's file;
    # the service's first session of a user fills its cache, so "cached"
    # samples start from the second round: warmed below)
    cases = [("service, 1k entries, cached", "service", "mb1k", None),
             ("plugin absent", "plain", "mb1k", None),
             ("service, 0 entries, cached", "service", "mb0", None),
             ("service, 1k entries, directory asked", "service-nocache", "mb1k", None),
             ("service, 0 entries, directory asked", "service-nocache", "mb0", None),
             ("service, 1k entries, asked, no prefetch", "service-noprefetch", "mb1k", None),
             ("service, 0 entries, asked, no prefetch", "service-noprefetch", "mb0", None),
             ("no service, 1k entries", "mailbox", "mb1k", None),
             ("no service, 0 entries", "mailbox", "mb0", None)]
    cases = [c for c in cases if c[1] in fronts]
    if "service-before" in fronts:
        # --compare-service: the same "directory asked" case with another
        # build's program, interleaved with this build's (same run, same load).
        cases += [("before: service, 1k entries, directory asked", "service-before", "mb1k", None),
                  ("before: service, 0 entries, directory asked", "service-before", "mb0", None)]
    if "service-before-cached" in fronts:
        cases += [("before: service, 1k entries, cached", "service-before-cached", "mb1k", None),
                  ("before: service, 0 entries, cached", "service-before-cached", "mb0", None)]
    for user in ("mb1k", "mb0"):
        fill_service(fronts["service"], user)
        if "service-before-cached" in fronts:
            fill_service(fronts["service-before-cached"], user)
    if "cache" in fronts:
        cases += [("cache dir, 1k entries, cold", "cache", "mb1k", "cold"),
                  ("cache dir, 1k entries, warm", "cache", "mb1k", "warm"),
                  ("cache dir, 0 entries, warm", "cache", "mb0", "warm")]
    out = {c[0]: [] for c in cases}
    # Per round: case -> [LOGIN sent -> tagged OK, OK -> SELECT's tagged
    # reply] in ms, for the paired differences against plugin absent.
    per_round = []
    load_before = pc.load_average()
    t_start = time.monotonic()
    for r in range(rounds):
        this_round = {}
        for name, fr, user, cache in start_round_order(cases, r):
            if r % every and name not in START_TARGET_CASES and not name.startswith("before:"):
                continue
            f = fronts[fr]
            if cache == "cold":
                remove_cache_file(f, user)
            elif cache == "warm" and not os.path.exists(cache_file(f, user)):
                fill_cache(f, user)
            c = ImapClient.connect(f.addr, f.port, timeout=60)
            t0 = time.perf_counter()
            _, t = c.command("a", "LOGIN %s pw-%s" % (user, user))
            t1 = time.perf_counter()
            _, t2 = c.command("s", "SELECT INBOX")
            t_end = time.perf_counter()
            out[name].append((t_end - t0) * 1000.0)
            this_round[name] = [(t1 - t0) * 1000.0, (t_end - t1) * 1000.0]
            if not (t.startswith(b"a OK") and t2.startswith(b"s OK")):
                raise pc.PerfError("session start at %s: %r %r" % (fr, t, t2))
            c.command("z", "LOGOUT")
            c.close()
        per_round.append(this_round)
    pc.log("session start: %d rounds in %.1f s" % (rounds, time.monotonic() - t_start))
    for name, v in out.items():
        pc.log("session start %-28s p50 %.2f ms p90 %.2f ms" % (name, p(v, 0.5), p(v, 0.9)))
    # A service sample that fell back to LDAP of its own would measure the
    # wrong thing: the plugin logs every fallback.
    for fr in [x for x in ("service", "service-nocache", "service-noprefetch", "service-before")
               if x in fronts]:
        with open(fronts[fr].log, "r", encoding="utf-8", errors="replace") as lf:
            bad = [ln for ln in lf if "asking the directory from this process" in ln
                   or "referral-directory: Error" in ln or "referral-directory: Fatal" in ln]
        if bad:
            raise pc.PerfError("%s front: %s" % (fr, bad[0].strip()))
    if "cache" in fronts:
        # A warm sample that found no usable file would have asked LDAP:
        # the front logs every refused file, and a missing one is checked above.
        with open(fronts["cache"].log, "r", encoding="utf-8", errors="replace") as lf:
            bad = [ln for ln in lf if "Warning" in ln and ("cache file" in ln
                                                          or "mailbox_cache_dir" in ln)]
        if bad:
            raise pc.PerfError("cache front: %s" % bad[0].strip())
    return {"sessions": out, "rounds": per_round, "every": every,
            "load_before": load_before, "load_after": pc.load_average()}


def cache_file(front, user):
    """The front's mailbox_cache_dir file of `user` (FNV-1a 64 of the name,
    plugin/core/mailbox_cache/remote_mailbox_cache_file.h)."""
    h = 0xcbf29ce484222325
    for b in user.encode("utf-8"):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return os.path.join(front.cache_dir, "%016x.mailboxes" % h)


def remove_cache_file(front, user):
    try:
        os.unlink(cache_file(front, user))
    except FileNotFoundError:
        pass


def fill_service(front, user):
    c = login(front, user)
    timed(c, "w", "SELECT INBOX")  # the service has the answer before SELECT runs
    c.command("z", "LOGOUT")
    c.close()


def fill_cache(front, user):
    c = login(front, user)
    timed(c, "w", "SELECT INBOX")  # the answer is on disk before SELECT runs
    c.command("z", "LOGOUT")
    c.close()
    if not os.path.exists(cache_file(front, user)):
        raise pc.PerfError("%s: no cache file after a session of %s" % (front.name, user))


def make_cache_dir(path):
    """mailbox_cache_dir as docs/mailbox-referrals.md asks: owned by the mail
    uid of the bench fronts (65534, like the lab), mode 0700, empty."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chown(path, 65534, 65534)
    os.chmod(path, 0o700)


def bench_memory(fronts, users, front="mailbox"):
    f = fronts[front]
    out = {}
    for user, entries in users:
        wait_no_imap(f)
        c = login(f, user)
        timed(c, "w", "SELECT INBOX")
        pids = imap_pids(f)
        if len(pids) != 1:
            raise pc.PerfError("expected one imap process, found %s" % pids)
        time.sleep(0.2)
        out[user] = {"entries": entries, "rss_kb": rss_kb(pids[0])}
        c.command("z", "LOGOUT")
        c.close()
        pc.log("memory %-7s %6d entries: imap RSS %d kB" % (user, entries, out[user]["rss_kb"]))
    return out


def run(args):
    env = pc.read_lab_env(args.env)
    slapd = pc.lab_slapd(env)
    small = args.quick and not args.full_sizes
    sizes = {"mb0": 0, "mb1k": 1000, "mb10k": 10000 if not small else 2000,
             "mb100k": 100000 if not small else 5000}
    parts = set(args.parts.split(","))
    unknown = parts - {"memory", "select", "rlist", "start"}
    if unknown:
        raise pc.PerfError("unknown --parts %s" % ",".join(sorted(unknown)))
    n_local = sizes["mb10k"]
    base = args.addr_base
    mb_addr, plain_addr = "127.0.0.%d" % (base + 10), "127.0.0.%d" % (base + 11)
    service_prog = args.service or os.path.join(env["LAB_BUILD_DIR"], "plugin", "service",
                                                "referral-directory")
    perf_data.raise_db_size(slapd)
    secs = pc.slapadd_bulk(env, perf_data.mailbox_users_ldif(env, sizes, mb_addr),
                                   "mailbox entries")
    pc.log("slapadd of %d remote mailbox entries: %.1f s" % (sum(sizes.values()), secs))
    users = list(sizes) + ["mblocal"]
    passwd = [perf_data.passwd_line(u) for u in users]
    overrides = {"mailbox_shared_base": "ou=bench-shared,%s" % env["LDAP_BASE"],
                 "ldap_timeout": "30s", "mailbox_max_entries": "200000", "cache_ttl": "3600s",
                 "local_names": mb_addr,
                 # Each imap process asks LDAP itself (as before the service).
                 "mailbox_directory_service": ""}
    fronts = {}
    try:
        if args.plugin:
            fronts["mailbox"] = ComparePluginFront(
                "bench-mailbox", args.work, mb_addr, "mailbox", "sc1", env, passwd,
                settings_overrides=overrides, plugin_so=args.plugin)
        else:
            fronts["mailbox"] = BenchFront("bench-mailbox", args.work, mb_addr, "mailbox", "sc1",
                                           env, passwd, settings_overrides=overrides)
        fronts["plain"] = BenchFront("bench-plain", args.work, plain_addr, "local", "sc1", env,
                                     passwd)
        if args.compare_plugin:
            before_addr = "127.0.0.%d" % (base + 12)
            fronts["before"] = ComparePluginFront(
                "bench-mailbox-before", args.work, before_addr, "mailbox", "sc1", env, passwd,
                settings_overrides=dict(overrides, local_names=before_addr),
                plugin_so=args.compare_plugin, older_settings=True)
        if "start" in parts:
            # The mailbox front's settings plus mailbox_cache_dir, on its own
            # address: the other parts keep measuring the plugin without it.
            cache_addr = "127.0.0.%d" % (base + 13)
            cache_dir = os.path.join(args.work, "bench-mailbox-cache", "mailbox-cache")
            cache_overrides = dict(overrides, local_names=cache_addr, mailbox_cache_dir=cache_dir)
            if args.plugin:
                fronts["cache"] = ComparePluginFront(
                    "bench-mailbox-cache", args.work, cache_addr, "mailbox", "sc1", env, passwd,
                    settings_overrides=cache_overrides, plugin_so=args.plugin)
            else:
                fronts["cache"] = BenchFront("bench-mailbox-cache", args.work, cache_addr,
                                             "mailbox", "sc1", env, passwd,
                                             settings_overrides=cache_overrides,
                                             extra_conf=os.environ.get("DREF_BENCH_EXTRA", ""))
            fronts["cache"].cache_dir = cache_dir
            make_cache_dir(cache_dir)
            # The shipped configuration: the referral-directory service, no
            # cache dir; and the same with a service that caches nothing.
            if not os.path.exists(service_prog):
                raise pc.PerfError("%s: not built (--service)" % service_prog)
            # With the home server's referral passdb (block 1) unless
            # --no-home-passdb: "service-noprefetch" is "service-nocache"
            # with mailbox_prefetch_at_login = no (the prefetch's share).
            home = not args.no_home_passdb
            services = [("service", 14, {}, service_prog, home),
                        ("service-nocache", 15, {"cache_size": "0"}, service_prog, home)]
            if home:
                services.append(("service-noprefetch", 16,
                                 {"cache_size": "0", "mailbox_prefetch_at_login": "no"},
                                 service_prog, True))
                ensure_auth_module(env)
            if args.compare_service:
                if "before" in fronts:
                    raise pc.PerfError("--compare-service and --compare-plugin share an address")
                # Another build's service (and imap plugin): no referral
                # passdb, whose driver is the lab's build (one per machine).
                services.append(("service-before", 12, {"cache_size": "0"}, args.compare_service,
                                 False))
                if args.compare_cached:
                    # The cached case with the other build's service and
                    # imap plugin, with the home server's referral passdb
                    # as "service" (the auth side is the lab's build in
                    # both): only the imap process and the service differ.
                    services.append(("service-before-cached", 17, {}, args.compare_service,
                                     home))
            for name, n, extra, prog, home_passdb in services:
                addr = "127.0.0.%d" % (base + n)
                # The bench users' mailHost is the "mailbox" front: served here too.
                local = "%s %s" % (addr, mb_addr) if home_passdb else addr
                ov = dict(overrides, local_names=local, mailbox_directory_service=None, **extra)
                plugin_so = args.plugin
                if name.startswith("service-before") and args.compare_service_plugin:
                    plugin_so = args.compare_service_plugin
                if plugin_so:
                    f = ComparePluginFront("bench-" + name, args.work, addr, "mailbox", "sc1",
                                           env, passwd, settings_overrides=ov,
                                           plugin_so=plugin_so)
                else:
                    f = BenchFront("bench-" + name, args.work, addr, "mailbox", "sc1", env,
                                   passwd, settings_overrides=ov)
                f.extra_conf = service_conf(prog, f.settings_file, home_passdb)
                fronts[name] = f
        for f in fronts.values():
            os.makedirs(f.dir, exist_ok=True)
            for u in users:
                perf_data.make_inbox(f.dir, u)
        if "rlist" in parts:
            perf_data.make_local_folders(fronts["plain"].dir, "mblocal", n_local)
        for f in fronts.values():
            f.start()
        if "rlist" in parts:
            # The first LIST after the folders were made builds Dovecot's
            # mailbox list index (it opens every folder once): slow, and not
            # what is measured.  Done here, untimed, once per work directory.
            t0 = time.monotonic()
            c = ImapClient.connect(fronts["plain"].addr, fronts["plain"].port, timeout=3600)
            c.command("a", "LOGIN mblocal pw-mblocal")
            c.command("l", 'LIST "" "*"')
            c.command("z", "LOGOUT")
            c.close()
            pc.log("first LIST of mblocal (list index build): %.1f s" % (time.monotonic() - t0))
            wait_no_imap(fronts["plain"])
        rounds = 1 if args.quick else args.rounds
        results = {"machine": pc.machine_note(), "sizes": sizes, "rounds": rounds}
        if "memory" in parts:
            mem_users = [("mb0", 0), ("mb10k", sizes["mb10k"]), ("mb100k", sizes["mb100k"])]
            results["memory"] = bench_memory(fronts, mem_users)
            if "before" in fronts:
                results["memory_before"] = bench_memory(fronts, mem_users, "before")
        if "select" in parts:
            results["select"] = bench_select(fronts, rounds, 50 if args.quick else 200)
        if "rlist" in parts:
            results["rlist"] = bench_rlist(fronts, rounds, 3 if args.quick else 10, n_local)
        if "start" in parts:
            results["start"] = bench_start(fronts, 10 if args.quick else args.start_rounds,
                                           1 if args.quick else args.start_every)
    finally:
        for f in fronts.values():
            f.stop()
    return pc.publish(args, results, report)


def report(res):
    out = []
    if "select" in res:
        sel = res["select"]
        base = pc.med([x["p50"] for x in sel["plugin absent"]])
        rows = []
        for name, v in sel.items():
            m = pc.med([x["p50"] for x in v])
            rows.append([name, pc.mmm([x["p50"] for x in v], "%.3f"),
                         pc.mmm([x["p99"] for x in v], "%.3f"), "%.3f×" % (m / base)])
        out += ["SELECT INBOX (a local mailbox, 1 message), per-session p50/p99 over repeated "
                "SELECTs; median (min–max) over %d sessions\n" % res["rounds"],
                pc.table(["case", "p50 ms", "p99 ms", "vs plugin absent"], rows), ""]
    if "rlist" in res:
        out += report_rlist(res)
    if "start" in res:
        out += report_start(res)
    if "memory" in res:
        out += report_memory(res)
    if "memory_before" in res:
        out += report_memory(res, "memory_before")
    return "\n".join(out) + "\n"


def report_rlist(res):
    out = []
    rl = res["rlist"]
    names = list(rl)
    a, b = pc.med([x["p50"] for x in rl[names[0]]]), pc.med([x["p50"] for x in rl[names[1]]])
    out.append(pc.table(["command", "time ms", "lines"],
                        [[n, pc.mmm([x["p50"] for x in rl[n]], "%.1f"), rl[n][0]["lines"]]
                         for n in names]))
    out.append("\nRLIST / LIST: %.2f×\n" % (a / b))
    return out


def report_start(res):
    out = []
    st = res["start"]["sessions"]
    srows = [[n, "%.2f" % p(v, 0.5), "%.2f" % p(v, 0.9), "%.2f" % max(v), len(v)]
             for n, v in st.items()]
    out.append(pc.table(["session start (LOGIN → first SELECT's tagged reply)", "p50 ms",
                         "p90 ms", "max ms", "samples"], srows))
    absent = st["plugin absent"]
    lines = ["", "vs plugin absent (targets at p50: cached ≤ +2 ms with 0 entries, ≤ +5 ms "
             "with 1k; directory asked ≤ +10 ms):"]
    names = ("service, 0 entries, cached", "service, 1k entries, cached",
             "service, 0 entries, directory asked", "service, 1k entries, directory asked",
             "service, 0 entries, asked, no prefetch", "service, 1k entries, asked, no prefetch",
             "no service, 0 entries", "no service, 1k entries",
             "cache dir, 1k entries, cold", "cache dir, 1k entries, warm",
             "cache dir, 0 entries, warm", "before: service, 1k entries, directory asked",
             "before: service, 0 entries, directory asked", "before: service, 1k entries, cached",
             "before: service, 0 entries, cached")
    for name in names:
        if name in st:
            lines.append("- %s: %+.2f ms at p50, %+.2f ms at p90"
                         % (name, p(st[name], 0.5) - p(absent, 0.5),
                            p(st[name], 0.9) - p(absent, 0.9)))
    out.append("\n".join(lines) + "\n")
    out += report_start_paired(res["start"], names)
    return out


def report_start_paired(start, names):
    """Each case against plugin absent of the same round (run next to it,
    under the same load): the median of the per-round differences with its
    95 % interval (paired_stats.median_ci), for the whole session start and
    for its two parts, LOGIN sent → the tagged OK and OK → the SELECT's
    tagged reply.  The median of differences, not the difference of two
    medians: the load moves both sessions of a round together."""
    def diffs(name, part):
        return [rd[name][part] - rd["plugin absent"][part] for rd in start["rounds"]
                if name in rd and "plugin absent" in rd]

    def fmt(values):
        med, lo, hi, _ = median_ci(values)
        if med is None:
            return "-"
        if lo is None:
            return "%+.2f" % med
        return "%+.2f [%+.2f, %+.2f]" % (med, lo, hi)

    rows = []
    for name in names:
        total = [a + b for a, b in zip(diffs(name, 0), diffs(name, 1))]
        if not total:
            continue
        rows.append([name, fmt(total), fmt(diffs(name, 0)), fmt(diffs(name, 1)), len(total)])
    absent_login = [rd["plugin absent"][0] for rd in start["rounds"] if "plugin absent" in rd]
    absent_select = [rd["plugin absent"][1] for rd in start["rounds"] if "plugin absent" in rd]
    lb, la = start["load_before"], start["load_after"]
    head = ("paired against plugin absent of the same round (%d rounds; cases other than the "
            "targets' every %d rounds; plugin absent p50: LOGIN → OK %.2f ms, OK → SELECT's reply "
            "%.2f ms; load average %s %s %s before, %s %s %s after)\n"
            % (len(start["rounds"]), start["every"], p(absent_login, 0.5),
               p(absent_select, 0.5), lb[0], lb[1], lb[2], la[0], la[1], la[2]))
    return [head, pc.table(["case", "median Δ ms [95 % interval]", "LOGIN → OK Δ ms",
                            "OK → SELECT reply Δ ms", "rounds"], rows), ""]


def report_memory(res, key="memory"):
    out = ["imap process memory (%s)\n" % ("this build" if key == "memory" else
                                              "--compare-plugin build")]
    mem = res[key]
    base_rss = mem["mb0"]["rss_kb"]
    mrows = []
    for u, m in mem.items():
        per = ("%.0f" % ((m["rss_kb"] - base_rss) * 1024.0 / m["entries"])) if m["entries"] else "-"
        mrows.append([u, m["entries"], m["rss_kb"], m["rss_kb"] - base_rss, per])
    out.append(pc.table(["user", "remote entries", "imap RSS kB", "delta kB", "bytes/entry"],
                        mrows))
    return out


def main(argv=None):
    ap = pc.argument_parser(build_dir=False)
    ap.add_argument("--full-sizes", action="store_true")
    ap.add_argument("--parts", default="memory,select,rlist,start")
    ap.add_argument("--compare-plugin")
    ap.add_argument("--plugin")
    ap.add_argument("--service", help="the referral-directory program (default: the lab's "
                                      "build tree)")
    ap.add_argument("--compare-service", help="another build's referral-directory program: "
                    "\"before: service, ... directory asked\" cases in the same run")
    ap.add_argument("--compare-service-plugin", help="with --compare-service: that front's "
                    "imap plugin (lib95_imap_referral_plugin.so of the same other build)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--start-rounds", type=int, default=150,
                    help="session start: rounds, each one session of every target case "
                         "(plugin absent, service cached / directory asked, 0 and 1k entries)")
    ap.add_argument("--start-every", type=int, default=5,
                    help="session start: the other cases (no prefetch, no service, cache dir) "
                         "in every n-th round only")
    ap.add_argument("--compare-cached", action="store_true",
                    help="with --compare-service: also a cached front with that build's "
                         "service and imap plugin (\"before: service, ... cached\")")
    ap.add_argument("--no-home-passdb", action="store_true",
                    help="service fronts without the referral passdb (passwd-file only, as "
                         "before session 10): no prefetch at login")
    args = ap.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
