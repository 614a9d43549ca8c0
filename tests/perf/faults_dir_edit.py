"""Fault scenario dir-edit (tests/perf/faults.py): directory entries edited
while logged-in sessions run, on the lab's own front (directory cache_ttl
2 s, auth_cache_ttl 20 s: tests/lab/conf).

Sessions opened first: carol x3 (local; her remote mailbox Archive/2019 is
on home1) and alice x3 (proxied to home1).  Then, in LDAP:
  - carol's Archive/2019 moves to home2 (imapMailboxURL replaced);
  - carol gets a new remote mailbox Archive/2020 (home2);
  - alice's mailHost becomes home2.
Observed: how long until a running carol session refers Archive/2019 to
home2 and lists Archive/2020 in RLIST; how long until a new login of alice
on the direct listener is referred to home2; whether every running session
still answers NOOP and FETCH (nothing lost); alice's proxied sessions keep
reading home1.  Everything is put back afterwards.
"""
import re
import time

import perf_common as pc
from imap_client import ImapClient, ImapError

POLL = 0.25


def _login(env, user, port=None):
    c = ImapClient.connect(env["FRONT_ADDR"], int(port or env["FRONT_PORT"]), timeout=20)
    _, t = c.command("a", "LOGIN %s pw-%s" % (user, user))
    return c, t


def _referral_host(line):
    m = re.search(rb"\[REFERRAL imap://[^@\]]*@([^:/\]]+)", line)
    return m.group(1).decode() if m else None


def _direct_login_host(env):
    c, t = _login(env, "alice", env["FRONT_DIRECT_PORT"])
    c.close()
    return _referral_host(t)


def _entry_dn(env):
    return "imapMailboxName=Archive/2019,uid=carol,ou=people,%s" % env["LDAP_BASE"]


def _edit(env, slapd, forward):
    home = env["HOME2_ADDR"] if forward else env["HOME1_ADDR"]
    slapd.modify("dn: %s\nchangetype: modify\nreplace: imapMailboxURL\nimapMailboxURL: "
                 "imap://%s:%s/Archive/2019\n" % (_entry_dn(env), home, env["HOME_PORT"]))
    slapd.modify("dn: uid=alice,ou=people,%s\nchangetype: modify\nreplace: mailHost\n"
                 "mailHost: %s\n" % (env["LDAP_BASE"], home))
    new_dn = "imapMailboxName=Archive/2020,uid=carol,ou=people,%s" % env["LDAP_BASE"]
    if forward:
        slapd.add_ldif("dn: %s\nobjectClass: imapRemoteMailbox\nimapMailboxName: Archive/2020\n"
                       "imapMailboxURL: imap://%s:%s/Archive/2020\n"
                       % (new_dn, env["HOME2_ADDR"], env["HOME_PORT"]))
    else:
        slapd.delete(new_dn, check=False)


def run(env, quick=False):
    slapd = pc.lab_slapd(env)
    res = {"lost": []}
    carols, alices = [], []
    try:
        for _ in range(3):
            c, t = _login(env, "carol")
            c.command("s", "SELECT INBOX")
            carols.append(c)
            a, t2 = _login(env, "alice")
            a.command("s", "SELECT INBOX")
            alices.append(a)
        _, before = carols[0].command("b", "SELECT Archive/2019")
        res["before_carol_referral_host"] = _referral_host(before)
        res["before_alice_direct_host"] = _direct_login_host(env)  # also fills the auth cache
        t0 = time.monotonic()
        _edit(env, slapd, True)
        res["edit_s"] = time.monotonic() - t0
        t_edit = time.monotonic()
        seen = {}
        limit = 30 if quick else 60
        i = 0
        while time.monotonic() - t_edit < limit and len(seen) < 3:
            i += 1
            now = time.monotonic() - t_edit
            if "carol_referral" not in seen:
                _, t = carols[0].command("p%d" % i, "SELECT Archive/2019")
                if _referral_host(t) == env["HOME2_ADDR"]:
                    seen["carol_referral"] = now
            if "carol_rlist" not in seen:
                u, _ = carols[1].command("r%d" % i, 'RLIST "" "Archive/*"')
                if any(b"Archive/2020" in line for line in u):
                    seen["carol_rlist"] = now
            if "alice_direct" not in seen and _direct_login_host(env) == env["HOME2_ADDR"]:
                seen["alice_direct"] = now
            time.sleep(POLL)
        res["seen_after_s"] = seen
        # Nothing lost: every running session still answers, alice's
        # proxied sessions still read home1's INBOX.
        for n, c in enumerate(carols + alices):
            who = "carol" if n < len(carols) else "alice"
            try:
                _, t = c.command("n", "NOOP")
                # (a SELECT that got a referral closed carol's INBOX: RFC 3501)
                c.command("s2", "SELECT INBOX")
                u, t2 = c.command("f", "FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
                ok = t.startswith(b"n OK") and t2.startswith(b"f OK")
                if who == "alice":
                    ok = ok and any(b"on home1" in line for line in u)
                if not ok:
                    res["lost"].append("%s session %d: %r %r" % (who, n, t, t2))
            except (OSError, ImapError) as e:
                res["lost"].append("%s session %d: %s" % (who, n, e))
        res["sessions"] = len(carols) + len(alices)
    finally:
        for c in carols + alices:
            try:
                c.command("z", "LOGOUT")
            except (OSError, ImapError):
                pass
            c.close()
        _edit(env, slapd, False)
    pc.log("dir-edit: %s" % res)
    return res


def report(r):
    seen = r.get("seen_after_s", {})

    def s(key):
        return "%.1f s" % seen[key] if key in seen else "not within the limit"
    rows = [
        ["running carol session: SELECT Archive/2019 refers to home2", s("carol_referral"),
         "directory cache_ttl 2 s; the table refreshes on the next command after it"],
        ["running carol session: RLIST shows the new Archive/2020", s("carol_rlist"), "same"],
        ["new alice login (direct listener) referred to home2", s("alice_direct"),
         "Dovecot's auth cache (auth_cache_ttl 20 s) + directory cache"],
        ["running sessions still answering NOOP + FETCH (alice's still on home1)",
         "%d of %d" % (r.get("sessions", 0) - len(r["lost"]), r.get("sessions", 0)),
         "; ".join(r["lost"]) or "nothing lost"],
    ]
    return ("dir-edit (lab front; before: Archive/2019 -> %s, alice -> %s):\n\n"
            % (r.get("before_carol_referral_host"), r.get("before_alice_direct_host")) +
            pc.table(["observation", "after the LDAP change", "bound by"], rows))
