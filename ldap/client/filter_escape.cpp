#include "ldap_client.h"

namespace dref::ldap {

// RFC 4515 §3: "The <valueencoding> rule ensures that the entire filter
// string is a valid UTF-8 string and provides that the octets that represent
// the ASCII characters "*" (ASCII 0x2a), "(" (ASCII 0x28), ")" (ASCII 0x29),
// "\" (ASCII 0x5c), and NUL (ASCII 0x00) are represented as a backslash
// "\" (ASCII 0x5c) followed by the two hexadecimal digits representing the
// value of the encoded octet."  Octets >= 0x80 are escaped too, so that a
// value that is not valid UTF-8 cannot make the filter invalid.
std::string escapeFilterValue(std::string_view value) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(value.size());
    for (unsigned char c : value) {
        if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || c >= 0x80) {
            out += '\\';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace dref::ldap
