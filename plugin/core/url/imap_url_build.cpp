#include "imap_url_build.h"

#include "imap_url_chars.h"
#include "response_text.h"

namespace dref {

using namespace imap_url_chars;

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void appendPct(std::string& out, unsigned char c) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 0x0f];
}

// Runs of achar octets are appended whole: a user name is usually one run
// (a login referral encodes one at every login, issue 13 item 3).
void appendUserinfo(std::string& out, std::string_view utf8) {
    size_t start = 0;
    for (size_t i = 0; i < utf8.size(); ++i) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (isAchar(c)) continue;
        out.append(utf8.data() + start, i - start);
        appendPct(out, c);
        start = i + 1;
    }
    out.append(utf8.data() + start, utf8.size() - start);
}

std::string encodeUserinfoImpl(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size() * 3);
    appendUserinfo(out, utf8);
    return out;
}

// R5092-12: "a leading "/" [...] MUST be percent-encoded"; so must the dots
// of a "." or ".." segment, or the name would be resolved as a dot-segment.
std::string encodeMailboxImpl(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size() * 3);
    size_t start = 0;
    for (;;) {
        const size_t end = utf8.find('/', start);
        const std::string_view seg =
            utf8.substr(start, end == std::string_view::npos ? end : end - start);
        if (isDotSegment(seg)) {
            for (size_t k = 0; k < seg.size(); ++k) appendPct(out, '.');
        } else {
            for (unsigned char c : seg) {
                if (isBchar(c))
                    out += static_cast<char>(c);
                else
                    appendPct(out, c);
            }
        }
        if (end == std::string_view::npos) break;
        if (end == 0)
            appendPct(out, '/');
        else
            out += '/';
        start = end + 1;
    }
    return out;
}

// The checks of the authority part, shared by both builders.
bool checkServerParts(const ImapServerUrlView& parts, std::string* error) {
    if (!checkImapUrlName(parts.user, "the user name", error)) return false;
    if (parts.user.empty() && parts.auth.empty())
        return fail(error, "a URL without user and ;AUTH= means anonymous login (R5092-4)");
    if (!parts.auth.empty() && parts.auth != "*" && !isValidSaslMechanism(parts.auth))
        return fail(error, "invalid ;AUTH= mechanism name '" + quoteForLog(parts.auth) + "'");
    if (parts.host.empty()) return fail(error, "empty host");
    if (!isValidHostName(parts.host))
        return fail(error, "invalid host name '" + quoteForLog(parts.host) + "'");
    if (parts.port == 0) return fail(error, "port 0");
    return true;
}

void appendDecimal(std::string& out, uint32_t value) {
    char digits[10];
    size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) out += digits[--n];
}

// "imap://" userinfo "@" host [":" port] "/" of checked parts.
void appendServerPart(std::string& out, const ImapServerUrlView& parts) {
    out += "imap://";
    appendUserinfo(out, parts.user);
    if (!parts.auth.empty()) {
        out += ";AUTH=";
        if (parts.auth == "*")
            out += '*';
        else
            appendUserinfo(out, parts.auth);
    }
    out += '@';
    out += parts.host;
    if (parts.port != 143) {
        out += ':';
        appendDecimal(out, parts.port);
    }
    out += '/';
}

}  // namespace

bool isVerbatimUserinfo(std::string_view utf8) {
    for (unsigned char c : utf8) {
        if (!isAchar(c)) return false;
    }
    return true;
}

// Out of memory is the only failure; the empty result then makes any URL
// built from it fail its checks rather than carry a partial name.
std::string encodeUserinfo(std::string_view utf8) {
    try {
        return encodeUserinfoImpl(utf8);
    } catch (...) {
        return std::string();
    }
}

std::string encodeMailbox(std::string_view utf8) {
    try {
        return encodeMailboxImpl(utf8);
    } catch (...) {
        return std::string();
    }
}

bool appendImapServerUrl(std::string* out, const ImapServerUrlView& parts,
                         std::string* error) try {
    if (!checkServerParts(parts, error)) return false;
    const size_t start = out->size();
    appendServerPart(*out, parts);
    if (out->size() - start > kMaxImapUrlLength) {
        out->resize(start);
        return fail(error, "URL longer than " + std::to_string(kMaxImapUrlLength) + " octets");
    }
    return true;
} catch (...) {
    fail(error, "out of memory");
    return false;
}

std::optional<std::string> buildImapUrl(const ImapUrlParts& parts, std::string* error) try {
    const ImapServerUrlView server{parts.user, parts.auth, parts.host, parts.port};
    if (!checkServerParts(server, error)) return std::nullopt;
    if (parts.mailbox) {
        if (parts.mailbox->empty()) return fail(error, "empty mailbox name"), std::nullopt;
        if (!checkImapUrlName(*parts.mailbox, "the mailbox name", error)) return std::nullopt;
    }

    std::string url;
    appendServerPart(url, server);
    if (parts.mailbox) {
        url += encodeMailboxImpl(*parts.mailbox);
        if (parts.uidValidity && *parts.uidValidity != 0) {
            url += ";UIDVALIDITY=";
            appendDecimal(url, *parts.uidValidity);
        }
    }
    if (url.size() > kMaxImapUrlLength)
        return fail(error, "URL longer than " + std::to_string(kMaxImapUrlLength) + " octets"),
               std::nullopt;
    return url;
} catch (...) {
    fail(error, "out of memory");
    return std::nullopt;
}

}  // namespace dref
