#pragma once
// How this server's proxy connects to a home server (every protocol Dovecot
// proxies: IMAP, POP3, ManageSieve, submission, LMTP, doveadm), expressed as
// Dovecot's own passdb proxy fields.  No Dovecot include: unit-tested.
//
// Dovecot checks the home server's certificate against the passdb field
// `host`, i.e. the name the directory gave (not an address it resolved to);
// the CA it trusts is a Dovecot setting (2.3: ssl_ca, 2.4:
// ssl_client_ca_file; docs/login-referrals.md, "TLS to the home servers").
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dref {

enum class ProxyTls {
    None,      // plaintext (the client's password crosses the network in clear)
    Tls,       // TLS from the first byte (the home server's implicit-TLS port)
    StartTls,  // plaintext connect, then the protocol's STARTTLS
};

struct ProxyConnectionSettings {
    ProxyTls tls = ProxyTls::None;  // proxy_tls = none|tls|starttls
    bool verifyCertificate = true;  // proxy_tls_verify = yes|no (no: any certificate)
    int timeoutSeconds = 0;         // proxy_timeout; 0 = Dovecot's own default
};

// "none", "tls" or "starttls" (ASCII case-insensitive).
bool parseProxyTls(std::string_view text, ProxyTls* out);
const char* proxyTlsName(ProxyTls tls);

// proxy_timeout: a duration of whole seconds, 0 (Dovecot's default) up to
// one day.  Whole seconds because Dovecot 2.3's LMTP proxy and its auth
// process read the field as a plain number of seconds.
bool parseProxyTimeout(std::string_view text, int* seconds, std::string* why);

// Appends ssl=yes|any-cert or starttls=yes|any-cert and proxy_timeout=<s>
// (nothing for the defaults).
void appendProxyConnectionFields(const ProxyConnectionSettings& set,
                                 std::vector<std::pair<std::string, std::string>>* fields);

// " over TLS", " over STARTTLS" (" without certificate check" added when
// verification is off) or "": for the driver's log line.
std::string proxyConnectionNote(const ProxyConnectionSettings& set);

}  // namespace dref
