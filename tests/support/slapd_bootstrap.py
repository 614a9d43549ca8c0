"""What slapd_server.py writes before the first start of a throwaway slapd:
the cn=config LDIF (loaded with slapadd -n0) and, for --tls, a test CA and
a server certificate.  Standard library only."""
import os

SYSTEM_SCHEMA_DIR = "/etc/ldap/schema"
SYSTEM_SCHEMAS = ("core", "cosine", "inetorgperson", "nis", "misc")
MODULE_PATH = "/usr/lib/ldap"
# The local root (ldapi peer credentials) manages cn=config and the data.
PEER_ROOT = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"


def _read(path):
    with open(path, "r", encoding="utf-8") as f:
        return f.read()


def _tls_attributes(tls_dir):
    return ("olcTLSCACertificateFile: %s/ca.pem\nolcTLSCertificateFile: %s/server.pem\n"
            "olcTLSCertificateKeyFile: %s/server.key\n" % (tls_dir, tls_dir, tls_dir))


def config_ldif(directory, schema_ldif, tls, database):
    """cn=config for a server living in `directory`: the system schemas plus
    `schema_ldif` (our imapreferral.ldif), one mdb database described by
    `database` (suffix, root_dn, root_password, config_root_dn) with the
    indexes the lookups use, and TLS files from directory/tls when `tls`."""
    d = directory
    parts = [
        "dn: cn=config\nobjectClass: olcGlobal\ncn: config\n"
        "olcPidFile: %s/slapd.pid\nolcArgsFile: %s/slapd.args\n"
        "olcIdleTimeout: 0\n" % (d, d) + (_tls_attributes(os.path.join(d, "tls")) if tls else ""),
        "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\n"
        "olcModulePath: %s\nolcModuleLoad: back_mdb\n" % MODULE_PATH,
        "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n",
    ]
    for name in SYSTEM_SCHEMAS:
        parts.append(_read(os.path.join(SYSTEM_SCHEMA_DIR, name + ".ldif")))
    if schema_ldif:
        parts.append(_read(schema_ldif))
    parts.append(
        "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n"
        "olcDatabase: {0}config\nolcRootDN: %s\nolcRootPW: %s\n"
        "olcAccess: {0}to * by dn.exact=%s manage by * break\n"
        % (database["config_root_dn"], database["root_password"], PEER_ROOT))
    parts.append(
        "dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\n"
        "objectClass: olcMdbConfig\nolcDatabase: {1}mdb\n"
        "olcDbDirectory: %s/data\nolcSuffix: %s\nolcRootDN: %s\nolcRootPW: %s\n"
        "olcDbMaxSize: 67108864\n"
        # A throwaway server: no fsync per write (a killed slapd loses
        # nothing, the kernel still has the pages).
        "olcDbNoSync: TRUE\n"
        "olcDbIndex: objectClass eq\nolcDbIndex: uid eq\nolcDbIndex: mail eq\n"
        "olcDbIndex: imapMailboxName eq,sub\n"
        "olcAccess: {0}to * by dn.exact=%s manage by * break\n"
        "olcAccess: {1}to attrs=userPassword by self write by anonymous auth by * none\n"
        "olcAccess: {2}to * by * read\n"
        % (d, database["suffix"], database["root_dn"], database["root_password"], PEER_ROOT))
    # Each part ends with one newline; a blank line separates the entries.
    return "\n".join(p.rstrip("\n") + "\n" for p in parts)


def make_certificates(tls_dir, addr, run):
    """A CA (ca.pem) and a server certificate for `addr` (server.pem,
    server.key) in tls_dir, with EC keys (fast).  `run(argv, what)` runs a
    command and raises on failure."""
    t = tls_dir
    os.makedirs(t, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509"] + ec + ["-keyout", t + "/ca.key", "-out", t + "/ca.pem",
         "-days", "30", "-subj", "/CN=dovecot-referral test CA"], "openssl (CA)")
    run(["openssl", "req"] + ec + ["-keyout", t + "/server.key", "-out", t + "/server.csr",
         "-subj", "/CN=%s" % addr], "openssl (request)")
    ext = t + "/server.ext"
    with open(ext, "w", encoding="ascii") as f:
        f.write("subjectAltName=IP:%s,DNS:localhost\n" % addr)
    run(["openssl", "x509", "-req", "-in", t + "/server.csr", "-CA", t + "/ca.pem",
         "-CAkey", t + "/ca.key", "-CAcreateserial", "-out", t + "/server.pem", "-days", "30",
         "-extfile", ext], "openssl (sign)")
