#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/ from the unit-test
vectors (tests/unit/*/*_test.cpp string literals) and a few hand-made inputs.
Re-run after adding vectors; libFuzzer finds the rest.  Existing files that
are not seeds (reproducers named regress-*) are kept."""
import hashlib
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SEP = b"\xff"


def c_literals(path):
    """Adjacent-concatenated C string literals of a source file, as bytes."""
    text = (ROOT / path).read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', text):
        raw = m.group(1)
        b = bytearray()
        i = 0
        while i < len(raw):
            c = raw[i]
            if c != "\\":
                b += c.encode("utf-8")
                i += 1
                continue
            n = raw[i + 1]
            if n == "x":
                j = i + 2
                while j < len(raw) and raw[j] in "0123456789abcdefABCDEF" and j < i + 4:
                    j += 1
                b.append(int(raw[i + 2:j], 16))
                i = j
                continue
            b += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\",
                  '"': b'"', "'": b"'"}.get(n, n.encode())
            i += 2
        out.append(bytes(b))
    return out


def write(target, seeds):
    d = HERE / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    for old in d.glob("seed-*"):
        old.unlink()
    seen = set()
    for s in seeds:
        if s in seen or len(s) > 4096:
            continue
        seen.add(s)
        (d / ("seed-" + hashlib.sha1(s).hexdigest()[:12])).write_bytes(s)
    print(f"{target}: {len(seen)} seeds")


def url_seeds():
    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests/unit/url").glob("*_test.cpp"))
    sources.append("tests/directory/entry_mapping_test.cpp")
    urls = [s for f in sources for s in c_literals(f) if s.lower().startswith(b"imap:")]
    urls.append(b"imap://fred;AUTH=*@server2/" + b"a" * 2030)
    return urls


def build_seeds():
    def rec(user, auth, host, port=b"", mailbox=None, uidv=None):
        fields = [user, auth, host, port]
        if mailbox is not None:
            fields.append(mailbox)
            if uidv is not None:
                fields.append(uidv)
        return SEP.join(fields)
    return [
        rec(b"fred", b"*", b"server2.example.org"),
        rec(b"", b"*", b"server2.example.org", b"10143"),
        rec(b"fred@example.com", b"*", b"192.0.2.7"),
        rec(b"fred", b"GSSAPI", b"minbari.example.org", b"143", b"gray-council", b"385759045"),
        rec(b"fred", b"SCRAM-SHA-256", b"h.example.test", b"993", b"INBOX", b"0"),
        rec(b"a b;c:d/e", b"*", b"h1", b"", "Entwürfe".encode()),
        rec(b"fred", b"*", b"h1", b"", "~peter/日本語/台北".encode()),
        rec(b"fred", b"*", b"h1", b"", b"../up/./x"),
        rec(b"fred", b"*", b"h1", b"", b"/leading"),
        rec(b"fred", b"*", b"h1", b"", b"[Gmail]/Sent Mail"),
        rec(b"fred", b"*", b"h1", b"", b"100% done?"),
        rec(b"fred", b"*", b"h1", b"", b"q\"uote\\back#;"),
        rec(b"fred", b"*", b"h1", b"", "😀".encode()),
        rec(b"fred\r\nA1 OK", b"*", b"h1"),
        rec(b"fred", b"*", b"bad]host"),
        rec(b"fred", b"*", b"[::1]"),
        rec(b"fred", b"", b"h1"),
        rec(b"", b"", b"h1"),
        rec(b"fred", b"GSS API", b"h1"),
        rec(b"fred", b"*", b"h1", b"0"),
        rec(b"fred", b"*", b"h1", b"65535", b"", b""),
        rec(b"fred", b"*", b"xn--bcher-kva.example", b"", b"a&b-c"),
        rec(b"fred", b"*", b"010.0.0.1"),
        rec(b"fred", b"*", b"a" * 64 + b".example"),
        rec(b"fred", b"*", b"h1", b"", b"x" * 2040),
    ]


def mutf7_seeds():
    lits = c_literals("tests/unit/text/mutf7_test.cpp")
    return [s for s in lits if len(s) < 200 and not s.startswith(b"%")]


def entry_seeds():
    def entry(dn, *attrs):
        return SEP.join([dn] + [a + b"=" + v for a, v in attrs])
    E = b"\xfe"
    return [
        b"\x00" + entry(b"uid=a,ou=people,dc=example,dc=test", (b"mailhost", b"home1.example.test"),
                        (b"imapreferralpolicy", b"Suggest")),
        b"\x02" + entry(b"uid=a", (b"mailhost", b"home1.example.test"),
                        (b"imaphomeserverurl", b"imap://a%40corp@home2.example.test:993/"),
                        (b"employeenumber", b"a.remote")),
        b"\x00" + entry(b"uid=a", (b"mailhost", b"home.example.test\r\nA1 LOGOUT")),
        b"\x00" + entry(b"uid=a", (b"mailhost", b"h1"), (b"mailhost", b"h2")),
        b"\x00" + entry(b"uid=a", (b"mailhost", b"h1")) + E + entry(b"uid=b", (b"mailhost", b"h2")),
        b"\x00" + entry(b"uid=a", (b"imaphomeserverurl", b"imap://h1.example.test/INBOX")),
        b"\x00" + entry(b"uid=a", (b"imapreferralpolicy", b"bogus")),
        b"\x01" + entry(b"cn=Projects,uid=a", (b"imapmailboxname", b"Projects"),
                        (b"imapmailboxurl", b"imap://home2.example.test/Projects")),
        b"\x00" + entry(b"cn=x,ou=shared", (b"imapmailboxname", "Shared/Entwürfe".encode()),
                        (b"imapmailboxurl", b"imap://h2.example.test/"),
                        (b"imapmailboxurl", b"imap://h3.example.test:1143/x;UIDVALIDITY=7")),
        b"\x00" + entry(b"cn=y", (b"imapmailboxname", b"bad\r\nname"),
                        (b"imapmailboxurl", b"imap://h2/")),
        b"\x00" + entry(b"cn=z", (b"imapmailboxname", b"INBOX/Archive"),
                        (b"imapmailboxurl", b"imap://home1.example.test/")),
        b"\x01" + entry(b"cn=w", (b"imapmailboxname", b"Sales"),
                        (b"imapmailboxurl", b"imap://h2/Sales]\r\n")),
        b"\x00" + entry(b"cn=q", (b"imapmailboxname", b"a" * 1025), (b"imapmailboxurl", b"imap://h/")),
        b"\x21" + entry(b"uid=a", (b"mailhost", b"192.0.2.1")),
        b"\x08" + entry(b"uid=a", (b"imaphomeserverurl", b"imap://[::1]/")),
    ]


def settings_seeds():
    base = (b"ldap_uris = ldap://127.0.0.1:3890\n"
            b"user_base = ou=people,dc=example,dc=test\n")
    seeds = [(ROOT / "conf.d/dovecot-referral.conf.ext").read_bytes(), base]
    for extra in [
            b"ldap_timeout = 250ms\nldap_connect_timeout = 3s\ncache_ttl = 2m\n",
            b"drain_host = h1.example.test\ndrain_port = 10143\ndrain_text = \"Moving.\"\n",
            b"client_id_rule = local *Outlook*\nclient_id_rule = refer Thunderbird*\n",
            b"listener_rule = proxy 127.0.0.1:143\nlistener_rule = refer [::1]:993\n",
            b"local_names = front.example.test, 192.0.2.1 [2001:db8::1]:143\n",
            b"default_policy = suggest\nrefer_insecure = no\ninsecure_policy = local\n",
            b"unknown_user_policy = reject\nmailbox_referral_mode = opt-in\n",
            b"referral_text = \"  padded  \"\nmailbox_referral_text = Remote.\n",
            b"auth_in_url = mechanism\nproxy_master_user = m\nproxy_master_password = p\n",
            b"ldap_starttls = yes\nldap_tls_require_cert = never\nldap_sasl_mech = EXTERNAL\n",
            b"mailbox_max_entries = 10\ncache_size = 0\nhome_port = 993\n",
            b"referral_text = [bad\n", b"ldap_timeout = 99999999999h\n", b"user_base = x\n",
            b"nokey\n", b" = v\n", b"a = \"unterminated\n", b"a = b\r\n", b"a = \0\n",
            b"x" * 4097 + b"\n"]:
        seeds.append(base + extra)
    seeds += [s for s in c_literals("tests/unit/settings/settings_file_test.cpp") if b"=" in s]
    return seeds


def list_seeds():
    def rec(sep, ref, pat, *names):
        return sep + SEP.join([ref, pat] + list(names))
    names = [b"Shared/Projects", b"Shared/Projects/2026", b"INBOX/Archive", b"inbox",
             "Entwürfe".encode(), b"!Local/Here", b"a/b/c"]
    return [
        rec(b"/", b"", b"*", *names), rec(b"/", b"", b"%", *names),
        rec(b"/", b"Shared/", b"%", *names), rec(b"/", b"", b"Shared/*", *names),
        rec(b"/", b"", b"inbox*", *names), rec(b"/", b"", b"INBOX/%", *names),
        rec(b".", b"", b"*", b"Shared/Projects", b"a.b/c"), rec(b".", b"Shared.", b"%", *names),
        rec(b"/", b"", b"*a*b*c*", b"a/b/c", b"abc", b"aXbYc"),
        rec(b"/", b"", b"%/%/%", *names), rec(b"/", b"", b"Inbox", b"INBOX", b"InBoX/x"),
        rec(b"/", b"", b"*%*%", *names), rec(b"/", b"", b"Shared/Projects", *names),
    ]


if __name__ == "__main__":
    write("imap_url_parse", url_seeds())
    write("imap_url_build", build_seeds())
    write("mutf7", mutf7_seeds())
    write("entry_mapping", entry_seeds())
    write("settings", settings_seeds())
    write("list_pattern", list_seeds())
