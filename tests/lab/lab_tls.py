"""TLS material and configuration lines of the loopback lab: a throwaway
test CA made with the openssl command, server certificates signed by it, and
the Dovecot lines (2.3 or 2.4 syntax) that use them.

The home servers present a certificate for their own name (the address the
directory gives as mailHost, plus a DNS name); the front trusts the CA for
its proxy connections (docs/login-referrals.md, "TLS to the home servers").
Keys are P-256 (fast to make); everything lives below the lab dir.
"""
import os
import subprocess

from dovecot_version import is_24
from lab_process import LabError

DAYS = "2"  # the CA and certificates only live as long as a test run


def _openssl(args, cwd):
    p = subprocess.run(["openssl"] + args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    if p.returncode != 0:
        raise LabError("openssl %s failed:\n%s" % (" ".join(args[:2]),
                                                    p.stdout.decode("utf-8", "replace")))


def make_ca(directory, name="dovecot-referral lab CA"):
    """A self-signed CA in directory/ca.pem (key ca.key); returns the dict
    {"dir", "cert", "key"} that make_cert takes."""
    os.makedirs(directory, exist_ok=True)
    ca = {"dir": os.path.abspath(directory),
          "cert": os.path.join(os.path.abspath(directory), "ca.pem"),
          "key": os.path.join(os.path.abspath(directory), "ca.key")}
    _openssl(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", ca["key"], "-out", ca["cert"], "-days", DAYS,
              "-subj", "/O=dovecot-referral lab/CN=%s" % name,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"], ca["dir"])
    os.chmod(ca["key"], 0o600)
    os.chmod(ca["cert"], 0o644)
    return ca


def make_cert(ca, name, ips=(), dns=()):
    """A server certificate <name>.pem / <name>.key in the CA's directory,
    signed by the CA, with the given IP and DNS subjectAltNames (the names a
    client checks; the CN is only a label).  Returns (cert, key)."""
    if not ips and not dns:
        raise LabError("make_cert %s: no name to certify" % name)
    d = ca["dir"]
    key = os.path.join(d, name + ".key")
    csr = os.path.join(d, name + ".csr")
    cert = os.path.join(d, name + ".pem")
    ext = os.path.join(d, name + ".ext")
    san = ",".join(["IP:%s" % ip for ip in ips] + ["DNS:%s" % n for n in dns])
    with open(ext, "w", encoding="utf-8") as f:
        f.write("subjectAltName = %s\nbasicConstraints = CA:FALSE\n"
                "keyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n" % san)
    _openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", key, "-out", csr, "-subj", "/O=dovecot-referral lab/CN=%s" % name], d)
    _openssl(["x509", "-req", "-in", csr, "-CA", ca["cert"], "-CAkey", ca["key"],
              "-CAcreateserial", "-days", DAYS, "-extfile", ext, "-out", cert], d)
    # Dovecot's master reads the key as root before it starts the login
    # processes; the certificate is public.
    os.chmod(key, 0o600)
    os.chmod(cert, 0o644)
    return cert, key


def conf_tls_server(cert, key):
    """TLS on for a Dovecot instance (STARTTLS on its plain listeners, and
    implicit TLS on listeners with `ssl = yes`)."""
    if is_24():
        return ("ssl = yes\nssl_server_cert_file = %s\nssl_server_key_file = %s\n"
                % (cert, key))
    return "ssl = yes\nssl_cert = <%s\nssl_key = <%s\n" % (cert, key)


def conf_trust_ca(ca_cert):
    """The CA a Dovecot's proxies (login processes, LMTP, doveadm) verify home
    servers against.  2.3's login processes ignore ssl_client_ca_file (they
    are chrooted) and use the contents of ssl_ca; 2.4 reads
    ssl_client_ca_file into the configuration, so the chroot does not matter
    there.  2.3 checks the CA's CRL for certificates verified against ssl_ca
    unless ssl_require_crl = no (the lab CA publishes none; a site's CA may
    append its CRL to the ssl_ca file instead)."""
    if is_24():
        return "ssl_client_ca_file = %s\n" % ca_cert
    return "ssl_ca = <%s\nssl_require_crl = no\n" % ca_cert


def conf_tls_listener(name, addr, port):
    """An implicit-TLS inet_listener (inside a `service <x>-login {}`)."""
    key = "listen" if is_24() else "address"
    return ("  inet_listener %s {\n    %s = %s\n    port = %d\n    ssl = yes\n  }\n"
            % (name, key, addr, port))
