#pragma once
// Value syntaxes of the settings file (settings.h), one checker per kind.
// Each returns false and a short reason (no file or line: the caller adds
// "<file>:<line>: <key>: ").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dref {

// yes/no/true/false, ASCII case-insensitive.
bool parseBoolValue(std::string_view text, bool* value, std::string* why);
// 1..65535, decimal.
bool parsePortValue(std::string_view text, uint16_t* port, std::string* why);
// Decimal in [min, max].
bool parseCountValue(std::string_view text, size_t min, size_t max, size_t* value,
                     std::string* why);
// A size in bytes: decimal with an optional unit K, M or G (1024, 1024^2,
// 1024^3, as Dovecot's own size settings), at most maxBytes.
bool parseByteSizeValue(std::string_view text, size_t maxBytes, size_t* value, std::string* why);
// No control characters (CR, LF, NUL, TAB, DEL ...) and valid UTF-8: values
// end up in LDAP requests and log lines.
bool checkPlainValue(std::string_view text, std::string* why);
// LDAP attribute description (RFC 4512 §2.5: keystring or numeric OID).
bool checkAttributeName(std::string_view text, std::string* why);
// RFC 4515 filter shape: "(...)", balanced parentheses, and only the
// variables %u (login name), %n (local part), %d (domain) and %%.
bool checkFilterTemplate(std::string_view text, std::string* why);
// Space- or comma-separated ldap://, ldaps:// or ldapi:// URIs.
bool parseLdapUris(std::string_view text, std::vector<std::string>* uris, std::string* why);
// Space- or comma-separated "host", "host:port", IPv4, IPv6, "[v6]:port".
bool parseLocalNames(std::string_view text, std::vector<std::string>* names, std::string* why);
// allowed_hosts: globs over host names and addresses (letters, digits, '.',
// '-', '_', ':', '*', '?'), spaces or commas between them, each at most 255.
bool parseAllowedHosts(std::string_view text, std::vector<std::string>* patterns,
                       std::string* why);
// "<ip|*>[:port]": IPv4, IPv6 (bracketed when a port follows) or "*".
bool parseListenerAddress(std::string_view text, std::string* address, uint16_t* port,
                          std::string* why);

}  // namespace dref
