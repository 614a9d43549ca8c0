#include "relay_connection.h"

namespace dref {

namespace {

constexpr int kMaxRelayTimeoutSeconds = 3600;

}  // namespace

bool parseRelayTimeout(std::string_view text, int* seconds, std::string* why) {
    // The proxy's parser: whole seconds, as imapc_cmd_timeout on 2.3 takes.
    int value = 0;
    if (!parseProxyTimeout(text, &value, nullptr)) {
        if (why) *why = "expected whole seconds, minutes or hours (e.g. 30s, 2m; a bare number is seconds)";
        return false;
    }
    if (value < 1 || value > kMaxRelayTimeoutSeconds) {
        if (why) *why = "must be between 1s and 1h";
        return false;
    }
    *seconds = value;
    return true;
}

bool checkRelayConnection(const RelayConnectionSettings& set, std::string* key, std::string* why) {
    if (set.tls == ProxyTls::None && !set.caFile.empty()) {
        *key = "mailbox_relay_tls_ca_file";
        *why = "has no effect with mailbox_relay_tls = none";
        return false;
    }
    if (set.tls == ProxyTls::None && !set.verifyCertificate) {
        *key = "mailbox_relay_tls_verify";
        *why = "has no effect with mailbox_relay_tls = none";
        return false;
    }
    if (!set.caFile.empty() && set.caFile.front() != '/') {
        *key = "mailbox_relay_tls_ca_file";
        *why = "must be an absolute path";
        return false;
    }
    return true;
}

ImapcConnection imapcConnectionFor(const RelayConnectionSettings& set, uint16_t urlPort) {
    ImapcConnection c;
    switch (set.tls) {
    case ProxyTls::None: c.ssl = "no"; break;
    case ProxyTls::Tls: c.ssl = "imaps"; break;
    case ProxyTls::StartTls: c.ssl = "starttls"; break;
    }
    c.port = set.tls == ProxyTls::Tls ? set.tlsPort : urlPort;
    c.verifyCertificate = set.verifyCertificate;
    c.caFile = set.tls == ProxyTls::None ? std::string() : set.caFile;
    c.timeoutSeconds = static_cast<unsigned int>(set.timeoutSeconds);
    return c;
}

bool relayAdmitsAnother(const RelayConnectionSettings& set, size_t inUse) {
    return inUse < set.maxMailboxes;
}

}  // namespace dref
