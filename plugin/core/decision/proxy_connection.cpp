#include "proxy_connection.h"

#include "ascii.h"

namespace dref {

namespace {

// An upper bound far inside Dovecot's unsigned milliseconds; a proxy that
// waits longer than a day for a home server is a configuration mistake.
constexpr int kMaxTimeoutSeconds = 24 * 3600;

}  // namespace

bool parseProxyTls(std::string_view text, ProxyTls* out) {
    if (equalsIgnoreCaseAscii(text, "none")) *out = ProxyTls::None;
    else if (equalsIgnoreCaseAscii(text, "tls")) *out = ProxyTls::Tls;
    else if (equalsIgnoreCaseAscii(text, "starttls")) *out = ProxyTls::StartTls;
    else return false;
    return true;
}

const char* proxyTlsName(ProxyTls tls) {
    switch (tls) {
    case ProxyTls::None: return "none";
    case ProxyTls::Tls: return "tls";
    case ProxyTls::StartTls: return "starttls";
    }
    return "none";
}

bool parseProxyTimeout(std::string_view text, int* seconds, std::string* why) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const std::string_view unit = text.substr(digits);
    long long factor = 0;
    if (unit.empty() || equalsIgnoreCaseAscii(unit, "s")) factor = 1;
    else if (equalsIgnoreCaseAscii(unit, "m")) factor = 60;
    else if (equalsIgnoreCaseAscii(unit, "h")) factor = 3600;
    if (digits == 0 || digits > 6 || factor == 0) {
        if (why)
            *why = "expected whole seconds, minutes or hours (e.g. 10s, 2m; a bare number is "
                   "seconds): Dovecot's LMTP proxy takes no milliseconds";
        return false;
    }
    long long value = 0;
    for (size_t i = 0; i < digits; ++i) value = value * 10 + (text[i] - '0');
    value *= factor;
    if (value > kMaxTimeoutSeconds) {
        if (why) *why = "at most 24h";
        return false;
    }
    *seconds = static_cast<int>(value);
    return true;
}

void appendProxyConnectionFields(const ProxyConnectionSettings& set,
                                 std::vector<std::pair<std::string, std::string>>* fields) {
    // Dovecot: any value but "any-cert" means "verify the certificate".
    const char* value = set.verifyCertificate ? "yes" : "any-cert";
    if (set.tls == ProxyTls::Tls) fields->emplace_back("ssl", value);
    else if (set.tls == ProxyTls::StartTls) fields->emplace_back("starttls", value);
    if (set.timeoutSeconds > 0)
        fields->emplace_back("proxy_timeout", std::to_string(set.timeoutSeconds));
}

std::string proxyConnectionNote(const ProxyConnectionSettings& set) {
    if (set.tls == ProxyTls::None) return "";
    std::string note = set.tls == ProxyTls::Tls ? " over TLS" : " over STARTTLS";
    if (!set.verifyCertificate) note += " without certificate check";
    return note;
}

}  // namespace dref
