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

bool isIpv4Octet(std::string_view s) {
    if (s.empty() || s.size() > 3) return false;
    int value = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    if (s.size() > 1 && s[0] == '0') return false;
    return value <= 255;
}

}  // namespace

bool checkImapUrlName(std::string_view value, const char* what, std::string* error) {
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

bool isValidHostName(std::string_view host) {
    if (host.empty() || host.size() > kMaxHostNameLength) return false;
    size_t labels = 0;
    bool allNumeric = true;
    std::string_view lastLabel;
    for (size_t start = 0;;) {
        const size_t end = host.find('.', start);
        const std::string_view label =
            host.substr(start, end == std::string_view::npos ? end : end - start);
        if (label.empty() || label.size() > 63) return false;
        if (label.front() == '-' || label.back() == '-') return false;
        for (unsigned char c : label) {
            if (!isAlnum(c) && c != '-') return false;
        }
        if (!isAllDigits(label)) allNumeric = false;
        lastLabel = label;
        ++labels;
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    if (allNumeric) {
        if (labels != 4) return false;
        for (size_t start = 0;;) {
            const size_t end = host.find('.', start);
            if (!isIpv4Octet(host.substr(start, end == std::string_view::npos ? end : end - start)))
                return false;
            if (end == std::string_view::npos) break;
            start = end + 1;
        }
        return true;
    }
    // RFC 3696 §2: a top-level domain is never all-numeric, so "1.2.3.999a"
    // is fine but "host.123" would be mistaken for an address by some resolvers.
    return !isAllDigits(lastLabel);
}

}  // namespace dref
