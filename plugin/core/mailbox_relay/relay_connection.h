#pragma once
// How the mailbox relay (docs/mailbox-relay.md) connects to an owning
// server: TLS, certificate checks, timeout, and the bound on relayed
// entries per session.  The settings file keys (mailbox_relay_tls, ...)
// are parsed in settings.cpp; this file turns them into the values of
// Dovecot's imapc storage that the glue writes into each relay namespace
// (plugin/imap/compat/dovecot_compat_relay.cpp).  No Dovecot include: unit-tested.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy_connection.h"

namespace dref {

struct RelayConnectionSettings {
    // mailbox_relay_tls = none|tls|starttls (the values of proxy_tls):
    // imapc_ssl = no|imaps|starttls.
    ProxyTls tls = ProxyTls::None;
    // mailbox_relay_tls_verify: no accepts any certificate (2.3
    // imapc_ssl_verify = no; 2.4 ssl_client_require_valid_cert = no).
    bool verifyCertificate = true;
    // mailbox_relay_tls_ca_file: the CA the owners' certificates are
    // checked against (ssl_client_ca_file of the relay namespaces only);
    // empty = Dovecot's own ssl_client_ca_file / ssl_client_ca_dir.
    std::string caFile;
    // mailbox_relay_tls_port: with tls the owner's implicit-TLS port, used
    // instead of the URL's port (the URL is also the referral clients get,
    // which names the plain IMAP port).
    uint16_t tlsPort = 993;
    // mailbox_relay_timeout: connect + login and every command to the owner
    // (imapc_cmd_timeout; 2.4 also imapc_connection_timeout_interval).
    // Dovecot's own default is 5 minutes, too long for a client waiting on
    // SELECT while an owner hangs.
    int timeoutSeconds = 30;
    // mailbox_relay_max_mailboxes: remote entries one session relays (one
    // hidden imapc namespace each, with its own connections).
    size_t maxMailboxes = 10;
};

// mailbox_relay_timeout: whole seconds, minutes or hours, 1 s .. 1 h.
bool parseRelayTimeout(std::string_view text, int* seconds, std::string* why);

// Cross-key checks: a CA file or verify = no without TLS would do nothing,
// and a relative CA path would depend on the imap process's directory.
// False with the key to blame and why.
bool checkRelayConnection(const RelayConnectionSettings& set, std::string* key, std::string* why);

// The imapc values of one relay namespace.
struct ImapcConnection {
    const char* ssl = "no";            // imapc_ssl
    bool verifyCertificate = true;
    std::string caFile;                // "" = leave Dovecot's ssl_client_ca_* alone
    uint16_t port = 143;               // where to connect
    unsigned int timeoutSeconds = 30;  // imapc_cmd_timeout, connect/login timeout
};
ImapcConnection imapcConnectionFor(const RelayConnectionSettings& set, uint16_t urlPort);

// The bound: true when a session that already relays `inUse` entries may
// relay one more.
bool relayAdmitsAnother(const RelayConnectionSettings& set, size_t inUse);

}  // namespace dref
