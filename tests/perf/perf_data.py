"""Benchmark data: directory entries (bulk ldapadd), passwd-file lines,
Maildir folders and large messages.

Bench users are bench00000 ... (password pw-<user>), all with mailHost =
home1 and imapReferralPolicy = refer, and a userPassword for the LDAP
password passdbs (native, ours-ldap*; cleartext, so that slapd can check the
binds of auth_bind = yes).  Mailbox-referral users mbN have N personal remote mailboxes below
their entry (Remote/gGGG/mNNNNNN on home2) and live on the "mailbox" front.
"""
import os

import perf_common
from perf_common import PerfError

MAIL_UID = MAIL_GID = 65534


def bench_user(i):
    return "bench%05d" % i


def users_ldif(env, first, count, home_addr):
    base = env["LDAP_BASE"]
    out = []
    for i in range(first, first + count):
        u = bench_user(i)
        out.append("dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\n"
                   "objectClass: inetLocalMailRecipient\nobjectClass: imapReferralAccount\n"
                   "uid: %s\ncn: %s\nsn: Bench\nmail: %s@example.test\nmailHost: %s\n"
                   "imapReferralPolicy: refer\nuserPassword: pw-%s\n"
                   % (u, base, u, u, u, home_addr, u))
    return "\n".join(out)


def mailbox_users_ldif(env, users, front_addr):
    """users: {name: number of personal remote mailboxes}; the user entries
    (mailHost = the mailbox front) and their remote mailbox entries, plus an
    empty OU used as mailbox_shared_base."""
    base = env["LDAP_BASE"]
    out = ["dn: ou=bench-shared,%s\nobjectClass: organizationalUnit\nou: bench-shared\n" % base]
    for name, n in users.items():
        out.append("dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\n"
                   "objectClass: inetLocalMailRecipient\nobjectClass: imapReferralAccount\n"
                   "uid: %s\ncn: %s\nsn: Bench\nmail: %s@example.test\nmailHost: %s\n"
                   % (name, base, name, name, name, front_addr))
        for i in range(n):
            mbox = remote_name(i)
            out.append("dn: imapMailboxName=%s,uid=%s,ou=people,%s\nobjectClass: imapRemoteMailbox\n"
                       "imapMailboxName: %s\nimapMailboxURL: imap://%s:%s/%s\n"
                       % (mbox, name, base, mbox, env["HOME2_ADDR"], env["HOME_PORT"], mbox))
    return "\n".join(out)


def remote_name(i):
    return "Remote/g%03d/m%06d" % (i // 1000, i)


def raise_db_size(slapd, size=2 * 1024 ** 3):
    """The throwaway slapd's mdb is 64 MB; 100k+ entries need more."""
    rc, out = slapd.modify_config(
        "dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nreplace: olcDbMaxSize\n"
        "olcDbMaxSize: %d\n" % size, check=False)
    if rc != 0:
        raise PerfError("raising olcDbMaxSize: %s" % out)


def passwd_line(user, extra=""):
    return "%s:{PLAIN}pw-%s::::::%s" % (user, user, extra)


def static_referral_fields(env):
    """The extra fields of variant static's passwd-file lines: Dovecot's own
    login referral to the first home server, from the password passdb."""
    return ("host=%s port=%s nologin=y reason=Your mailbox is on another server."
            % (env["HOME1_ADDR"], env["HOME_PORT"]))


def warm_login_users(env, slapd, n, users_path, sets=1):
    """The n bench users of a warm-login measurement (callgrind_login.py,
    login_costs.py): in slapd (slapadd), as passwd-file lines and as the
    load generator's users file at users_path.  Returns (passwd lines,
    users file).  sets > 1: that many disjoint sets of n users (a cold
    measurement needs users no pass has logged in yet), the passwd lines of
    all of them, and users files users_path, users_path.1, ... one a set:
    then the second element is the list of those files."""
    users = [bench_user(i) for i in range(n * sets)]
    raise_db_size(slapd)
    perf_common.slapadd_bulk(env, users_ldif(env, 0, n * sets, env["HOME1_ADDR"]), "bench users")
    plain = [passwd_line(u) for u in users]
    files = [perf_common.write_users(users_path + ("" if k == 0 else ".%d" % k),
                                     [(u, "pw-" + u) for u in users[k * n:(k + 1) * n]])
             for k in range(sets)]
    return plain, (files[0] if sets == 1 else files)


def _chown_tree(path):
    os.chown(path, MAIL_UID, MAIL_GID)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.chown(os.path.join(root, n), MAIL_UID, MAIL_GID)


def make_local_folders(front_dir, user, count):
    """count Maildir++ folders Local/gGGG/mNNNNNN for user on a bench front."""
    maildir = os.path.join(front_dir, "mail", user, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    for i in range(count):
        d = os.path.join(maildir, ".Local.g%03d.m%06d" % (i // 1000, i))
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        open(os.path.join(d, "maildirfolder"), "a").close()
    _chown_tree(os.path.join(front_dir, "mail", user))
    return maildir


def make_inbox(front_dir, user, messages=1):
    maildir = os.path.join(front_dir, "mail", user, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    for n in range(messages):
        with open(os.path.join(maildir, "cur", "1795200000.M%dP1.bench:2,S" % n), "wb") as f:
            f.write(b"From: bench@example.test\r\nSubject: bench %d\r\n\r\nhello\r\n" % n)
    _chown_tree(os.path.join(front_dir, "mail", user))
    return maildir


def make_big_mail(maildir, count, size):
    """count messages of about size bytes each in maildir/cur (a download
    test); returns the total bytes written."""
    cur = os.path.join(maildir, "cur")
    os.makedirs(cur, exist_ok=True)
    for sub in ("new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    line = (b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2)[:76] + b"\r\n"
    body = line * (size // len(line))
    total = 0
    for n in range(count):
        hdr = (b"From: bench@example.test\r\nTo: alice@example.test\r\nSubject: big %d\r\n"
               b"Message-ID: <big-%d@example.test>\r\n\r\n" % (n, n))
        data = hdr + body
        name = "1795300000.M%dP2.bench,S=%d:2,S" % (n, len(data))
        with open(os.path.join(cur, name), "wb") as f:
            f.write(data)
        total += len(data)
    _chown_tree(maildir)
    return total

