#include "settings_values.h"
#include "ascii.h"

#include <arpa/inet.h>

#include "imap_url.h"
#include "mutf7.h"
#include "response_text.h"

namespace dref {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool failWith(std::string* why, std::string message) {
    if (why) *why = std::move(message);
    return false;
}

std::vector<std::string_view> splitList(std::string_view text) {
    std::vector<std::string_view> items;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t start = text.find_first_not_of(" \t,", pos);
        if (start == std::string_view::npos) break;
        size_t end = text.find_first_of(" \t,", start);
        if (end == std::string_view::npos) end = text.size();
        items.push_back(text.substr(start, end - start));
        pos = end;
    }
    return items;
}

bool isIpv4(std::string_view s) {
    if (s.size() > 15) return false;
    in_addr a;
    return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}

bool isIpv6(std::string_view s) {
    if (s.size() > 45) return false;
    in6_addr a;
    return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

}  // namespace

bool parseBoolValue(std::string_view text, bool* value, std::string* why) {
    if (equalsIgnoreCaseAscii(text, "yes") || equalsIgnoreCaseAscii(text, "true")) {
        *value = true;
        return true;
    }
    if (equalsIgnoreCaseAscii(text, "no") || equalsIgnoreCaseAscii(text, "false")) {
        *value = false;
        return true;
    }
    return failWith(why, "expected yes, no, true or false, not '" + quoteForLog(text, 32) + "'");
}

bool parseCountValue(std::string_view text, size_t min, size_t max, size_t* value,
                     std::string* why) {
    const std::string range = " (" + std::to_string(min) + ".." + std::to_string(max) + ")";
    if (text.empty() || text.size() > 12)
        return failWith(why, "expected a number" + range + ", not '" + quoteForLog(text, 32) + "'");
    size_t v = 0;
    for (char c : text) {
        if (!isDigit(c))
            return failWith(why, "expected a number" + range + ", not '" + quoteForLog(text, 32) + "'");
        v = v * 10 + static_cast<size_t>(c - '0');
    }
    if (v < min || v > max) return failWith(why, "out of range" + range);
    *value = v;
    return true;
}

bool parseByteSizeValue(std::string_view text, size_t maxBytes, size_t* value, std::string* why) {
    const std::string expected = "expected a size in bytes with an optional K, M or G (at most " +
                                 std::to_string(maxBytes) + "), not '" + quoteForLog(text, 32) + "'";
    size_t unit = 1;
    std::string_view digits = text;
    if (!digits.empty()) {
        switch (digits.back()) {
        case 'k': case 'K': unit = size_t(1) << 10; break;
        case 'm': case 'M': unit = size_t(1) << 20; break;
        case 'g': case 'G': unit = size_t(1) << 30; break;
        default: break;
        }
        if (unit != 1) digits.remove_suffix(1);
    }
    size_t n = 0;
    std::string reason;
    if (!parseCountValue(digits, 0, maxBytes, &n, &reason)) return failWith(why, expected);
    if (n > maxBytes / unit) return failWith(why, expected);
    *value = n * unit;
    return true;
}

bool parsePortValue(std::string_view text, uint16_t* port, std::string* why) {
    size_t v = 0;
    std::string reason;
    if (!parseCountValue(text, 1, 65535, &v, &reason))
        return failWith(why, "invalid port: " + reason);
    *port = static_cast<uint16_t>(v);
    return true;
}

bool checkPlainValue(std::string_view text, std::string* why) {
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) return failWith(why, "control character in value");
    }
    if (!isValidUtf8(text)) return failWith(why, "value is not valid UTF-8");
    return true;
}

bool checkAttributeName(std::string_view text, std::string* why) {
    const std::string bad = "invalid LDAP attribute name '" + quoteForLog(text, 64) + "'";
    if (text.empty() || text.size() > 128) return failWith(why, bad);
    if (isAlpha(text.front())) {
        for (char c : text) {
            if (!isAlpha(c) && !isDigit(c) && c != '-') return failWith(why, bad);
        }
        return true;
    }
    // numericoid = number 1*( DOT number ), no leading zeros.
    bool needDigit = true;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (isDigit(c)) {
            if (c == '0' && needDigit && i + 1 < text.size() && isDigit(text[i + 1]))
                return failWith(why, bad);
            needDigit = false;
        } else if (c == '.' && !needDigit) {
            needDigit = true;
        } else {
            return failWith(why, bad);
        }
    }
    if (needDigit || text.find('.') == std::string_view::npos) return failWith(why, bad);
    return true;
}

bool checkFilterTemplate(std::string_view text, std::string* why) {
    if (!checkPlainValue(text, why)) return false;
    if (text.size() < 3 || text.front() != '(' || text.back() != ')')
        return failWith(why, "an LDAP filter must be enclosed in parentheses");
    int depth = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (--depth < 0) return failWith(why, "unbalanced ')' in LDAP filter");
            if (depth == 0 && i + 1 != text.size())
                return failWith(why, "text after the outermost filter");
        } else if (c == '%') {
            if (i + 1 >= text.size())
                return failWith(why, "'%' at the end of the filter (use %% for a literal '%')");
            const char v = text[i + 1];
            if (v != 'u' && v != 'n' && v != 'd' && v != '%')
                return failWith(why, std::string("unknown variable '%") +
                                         quoteForLog(std::string_view(&text[i + 1], 1)) +
                                         "' (known: %u %n %d %%)");
            ++i;
        }
    }
    if (depth != 0) return failWith(why, "unbalanced '(' in LDAP filter");
    return true;
}

bool parseLdapUris(std::string_view text, std::vector<std::string>* uris, std::string* why) {
    if (!checkPlainValue(text, why)) return false;
    std::vector<std::string> out;
    for (std::string_view uri : splitList(text)) {
        std::string_view rest;
        if (uri.size() > 7 && equalsIgnoreCaseAscii(uri.substr(0, 7), "ldap://"))
            rest = uri.substr(7);
        else if (uri.size() > 8 && equalsIgnoreCaseAscii(uri.substr(0, 8), "ldaps://"))
            rest = uri.substr(8);
        else if (uri.size() >= 8 && equalsIgnoreCaseAscii(uri.substr(0, 8), "ldapi://"))
            rest = std::string_view();  // path-encoded socket name, may be empty
        else
            return failWith(why, "'" + quoteForLog(uri, 64) +
                                     "' is not an ldap://, ldaps:// or ldapi:// URI");
        if (!rest.empty()) {
            const std::string_view hostport = rest.substr(0, rest.find('/'));
            if (hostport.empty() || hostport.front() == ':')
                return failWith(why, "'" + quoteForLog(uri, 64) + "' has no host");
        }
        out.emplace_back(uri);
    }
    if (out.empty()) return failWith(why, "no LDAP URI given");
    *uris = std::move(out);
    return true;
}

bool parseLocalNames(std::string_view text, std::vector<std::string>* names, std::string* why) {
    std::vector<std::string> out;
    for (std::string_view entry : splitList(text)) {
        std::string_view host = entry;
        std::string_view port;
        bool v6 = false;
        if (entry.front() == '[') {
            const size_t close = entry.find(']');
            if (close == std::string_view::npos)
                return failWith(why, "unclosed '[' in '" + quoteForLog(entry, 64) + "'");
            host = entry.substr(1, close - 1);
            const std::string_view rest = entry.substr(close + 1);
            if (!rest.empty()) {
                if (rest.front() != ':')
                    return failWith(why, "invalid entry '" + quoteForLog(entry, 64) + "'");
                port = rest.substr(1);
                if (port.empty())
                    return failWith(why, "empty port in '" + quoteForLog(entry, 64) + "'");
            }
            v6 = true;
        } else if (entry.find(':') != entry.rfind(':')) {
            v6 = true;  // bare IPv6 address, no port
        } else if (entry.find(':') != std::string_view::npos) {
            host = entry.substr(0, entry.find(':'));
            port = entry.substr(entry.find(':') + 1);
            if (port.empty()) return failWith(why, "empty port in '" + quoteForLog(entry, 64) + "'");
        }
        if (v6 ? !isIpv6(host) : !isValidHostName(host))
            return failWith(why, "'" + quoteForLog(entry, 64) +
                                     "' is not a host name, IPv4 or IPv6 address");
        uint16_t p = 0;
        if (!port.empty() && !parsePortValue(port, &p, why)) return false;
        out.emplace_back(entry);
    }
    *names = std::move(out);
    return true;
}

bool parseAllowedHosts(std::string_view text, std::vector<std::string>* patterns,
                       std::string* why) {
    std::vector<std::string> out;
    for (std::string_view entry : splitList(text)) {
        if (entry.size() > 255)
            return failWith(why, "'" + quoteForLog(entry, 64) + "' is longer than 255 characters");
        for (char c : entry) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
                            c == ':' || c == '*' || c == '?';
            if (!ok)
                return failWith(why, "'" + quoteForLog(entry, 64) +
                                         "' is not a host name pattern (letters, digits, . - _ : "
                                         "and the wildcards * ?)");
        }
        out.emplace_back(entry);
    }
    if (out.empty()) return failWith(why, "expected at least one host pattern");
    *patterns = std::move(out);
    return true;
}

bool parseListenerAddress(std::string_view text, std::string* address, uint16_t* port,
                          std::string* why) {
    std::string_view host = text;
    std::string_view portText;
    bool v6 = false;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 == text.size() || text[close + 1] != ':')
            return failWith(why, "use [IPv6]:port, or a bare IPv6 address without a port");
        host = text.substr(1, close - 1);
        portText = text.substr(close + 2);
        v6 = true;
    } else if (text.find(':') != text.rfind(':')) {
        v6 = true;
    } else if (text.find(':') != std::string_view::npos) {
        host = text.substr(0, text.find(':'));
        portText = text.substr(text.find(':') + 1);
    }
    if (host != "*" && !(v6 ? isIpv6(host) : isIpv4(host)))
        return failWith(why, "'" + quoteForLog(text, 64) + "' is not an IP address or '*'");
    uint16_t p = 0;
    if (text.find(':') != std::string_view::npos && !v6 && portText.empty())
        return failWith(why, "empty port in '" + quoteForLog(text, 64) + "'");
    if (!portText.empty() && !parsePortValue(portText, &p, why)) return false;
    if (v6 && text.front() == '[' && portText.empty())
        return failWith(why, "empty port in '" + quoteForLog(text, 64) + "'");
    *address = std::string(host);
    *port = p;
    return true;
}

}  // namespace dref
