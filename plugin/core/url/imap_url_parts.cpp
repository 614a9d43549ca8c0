#include "imap_url_parts.h"

#include "imap_url_chars.h"
#include "mutf7.h"

namespace dref {

using namespace imap_url_chars;

namespace {

bool hasControl(std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) return true;
    }
    return false;
}

// Printable US-ASCII only: valid UTF-8 without a control, so both checks of
// checkImapUrlName() pass in one look at each octet (almost every user name).
bool isPrintableAscii(std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
}

}  // namespace

bool checkImapUrlName(std::string_view value, const char* what, std::string* error) {
    if (isPrintableAscii(value)) return true;
    if (!isValidUtf8(value)) return fail(error, std::string(what) + " is not valid UTF-8");
    if (hasControl(value)) return fail(error, std::string(what) + " contains a control character");
    return true;
}

bool isValidSaslMechanism(std::string_view mech) {
    if (mech.empty() || mech.size() > 20) return false;
    for (unsigned char c : mech) {
        if (!isAlnum(c) && c != '-' && c != '_') return false;
    }
    return true;
}

// One pass over the octets (a login referral checks its host at every
// login: issue 13 item 3), label by label:
//   - a label is 1..63 of A-Z a-z 0-9 "-", not starting or ending with "-";
//   - when every label is all digits, the name must be a dotted quad of
//     octets 0..255 without leading zeros;
//   - otherwise the last label must not be all digits.
bool isValidHostName(std::string_view host) {
    if (host.empty() || host.size() > kMaxHostNameLength) return false;
    size_t labels = 0;
    bool allNumeric = true;  // every label so far all digits
    bool quadOctets = true;  // every label so far an IPv4 octet
    size_t len = 0;          // of the current label
    bool digits = true;      // the current label all digits so far
    unsigned value = 0;      // its value while it is at most 3 digits
    char first = '\0';
    char last = '\0';
    for (size_t i = 0; i <= host.size(); ++i) {
        if (i == host.size() || host[i] == '.') {
            if (len == 0 || len > 63 || first == '-' || last == '-') return false;
            allNumeric = allNumeric && digits;
            quadOctets = quadOctets && digits && len <= 3 && !(len > 1 && first == '0') &&
                         value <= 255;
            ++labels;
            if (i == host.size()) break;
            len = 0;
            digits = true;
            value = 0;
            continue;
        }
        const char c = host[i];
        if (c >= '0' && c <= '9') {
            if (len < 3) value = value * 10 + static_cast<unsigned>(c - '0');
        } else if (isAlnum(static_cast<unsigned char>(c)) || c == '-') {
            digits = false;
        } else {
            return false;
        }
        if (len == 0) first = c;
        last = c;
        ++len;
    }
    if (allNumeric) return labels == 4 && quadOctets;
    // RFC 3696 §2: a top-level domain is never all-numeric, so "1.2.3.999a"
    // is fine but "host.123" would be mistaken for an address by some resolvers.
    return !digits;
}

}  // namespace dref
