#include "imap_url_parse.h"

#include "ascii.h"
#include "imap_url_chars.h"
#include "mutf7.h"
#include "printable_octets.h"
#include "response_text.h"

namespace dref {

using namespace imap_url_chars;

namespace {

int hexValue(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        if (asciiLower(s[i]) != asciiLower(prefix[i])) return false;
    }
    return true;
}

// Percent-decodes `in`, allowing raw octets of the set `allowed`
// (kCharSets.achar or .bchar).  Runs of raw octets are appended at once.
bool percentDecode(std::string_view in, const bool (&allowed)[256], const char* what,
                   std::string* out, std::string* error) {
    out->clear();
    out->reserve(in.size());
    size_t i = 0;
    while (i < in.size()) {
        size_t run = i;
        while (run < in.size() && allowed[static_cast<unsigned char>(in[run])]) ++run;
        out->append(in.data() + i, run - i);
        i = run;
        if (i == in.size()) break;
        if (in[i] != '%')
            return fail(error, std::string("character '") + quoteForLog(in.substr(i, 1)) +
                                   "' must be percent-encoded in " + what);
        if (in.size() - i < 3 || hexValue(in[i + 1]) < 0 || hexValue(in[i + 2]) < 0)
            return fail(error, std::string("bad percent-encoding in ") + what);
        out->push_back(static_cast<char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2])));
        i += 3;
    }
    return true;
}

// Parses an unsigned decimal with no sign and no leading zero, within max.
bool parseDecimal(std::string_view s, uint64_t max, uint64_t* value) {
    if (!isAllDigits(s) || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return false;
    uint64_t v = 0;
    for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > max) return false;
    *value = v;
    return true;
}

// Flags a mailbox with an "&...-" run that decodes as modified UTF-7 to
// something non-ASCII (R5092-10 says it should have been UTF-8).
bool looksLikeMutf7(std::string_view mailbox) {
    size_t pos = 0;
    while ((pos = mailbox.find('&', pos)) != std::string_view::npos) {
        const size_t end = mailbox.find('-', pos + 1);
        if (end == std::string_view::npos) return false;
        if (end > pos + 1) {
            auto decoded = mutf7ToUtf8(mailbox.substr(pos, end - pos + 1));
            if (decoded && !decoded->empty()) return true;
        }
        pos = end + 1;
    }
    return false;
}

// The server part of an IMAP URL (between "imap://" and the first '/'):
// its user, ;AUTH= mechanism, host and port into *out (nothing else of it
// is touched).
bool parseServerPart(std::string_view authority, ImapUrlParts* out, std::string* error) {
    ImapUrlParts& parts = *out;
    parts.auth.clear();
    const size_t at = authority.find('@');
    std::string_view hostport = authority;
    if (at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        hostport = authority.substr(at + 1);
        if (hostport.find('@') != std::string_view::npos)
            return fail(error, "unencoded '@' in the user name");
        if (userinfo.empty()) return fail(error, "empty user information before '@'");
        const size_t semi = userinfo.find(';');
        const std::string_view encUser = userinfo.substr(0, semi);
        if (!percentDecode(encUser, kCharSets.achar, "the user name", &parts.user, error))
            return false;
        if (!checkImapUrlName(parts.user, "the user name", error)) return false;
        if (semi != std::string_view::npos) {
            const std::string_view iauth = userinfo.substr(semi);
            if (!startsWithIgnoreCase(iauth, ";AUTH="))
                return fail(error, "unknown parameter in the user information");
            const std::string_view encAuth = iauth.substr(6);
            if (encAuth == "*") {
                parts.auth = "*";
            } else {
                if (!percentDecode(encAuth, kCharSets.achar, "the ;AUTH= mechanism", &parts.auth, error))
                    return false;
                if (parts.auth == "*")
                    return fail(error, "';AUTH=%2A' is not ';AUTH=*' (R5092-6)");
                if (!isValidSaslMechanism(parts.auth))
                    return fail(error, "invalid ;AUTH= mechanism name");
            }
        } else if (parts.user.empty()) {
            return fail(error, "empty user name");
        }
    }
    if (!hostport.empty() && hostport.front() == '[')
        return fail(error, "IPv6 literal hosts cannot be sent in a REFERRAL (R3501-1, D-4)");
    const size_t colon = hostport.find(':');
    const std::string_view host = hostport.substr(0, colon);
    if (host.empty()) return fail(error, "empty host");
    if (!isValidHostName(host))
        return fail(error, "invalid host name '" + quoteForLog(host) + "'");
    parts.host = std::string(host);
    if (colon != std::string_view::npos) {
        const std::string_view port = hostport.substr(colon + 1);
        uint64_t value = 0;
        if (isAllDigits(port) && port.size() <= 5)
            for (char c : port) value = value * 10 + static_cast<uint64_t>(c - '0');
        if (!isAllDigits(port) || port.size() > 5 || value < 1 || value > 65535)
            return fail(error, "invalid port '" + quoteForLog(port) + "'");
        parts.port = static_cast<uint16_t>(value);
    }
    return true;
}

std::optional<ImapUrlParts> parseUrl(std::string_view url, std::string* error,
                                     ImapUrlParseNotes* notes, ImapUrlServerCache* cache) {
    ImapUrlParseNotes localNotes;
    if (!notes) notes = &localNotes;
    *notes = ImapUrlParseNotes{};
    if (url.empty()) return fail(error, "empty URL"), std::nullopt;
    if (url.size() > kMaxImapUrlLength)
        return fail(error, "URL longer than " + std::to_string(kMaxImapUrlLength) + " octets"),
               std::nullopt;
    // No space, control or 8-bit octet raw in a URL.
    const size_t forbidden = findForbiddenOctet(url, PrintableRule{0x21, false});
    if (forbidden != std::string_view::npos)
        return fail(error, "URL contains a space, control or 8-bit octet at offset " +
                               std::to_string(forbidden)),
               std::nullopt;
    constexpr std::string_view kScheme = "imap://";
    if (!startsWithIgnoreCase(url, kScheme)) {
        if (url.find("://") != std::string_view::npos || startsWithIgnoreCase(url, "imap:"))
            return fail(error, "not an absolute imap:// URL"), std::nullopt;
        return fail(error, "relative IMAP URLs are not accepted (R5092-13)"), std::nullopt;
    }
    if (url.find('#') != std::string_view::npos)
        return fail(error, "fragment ('#') in IMAP URL"), std::nullopt;

    std::string_view rest = url.substr(kScheme.size());
    const size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path;
    if (slash == std::string_view::npos)
        notes->missingSlash = true;
    else
        path = rest.substr(slash + 1);
    if (authority.find('?') != std::string_view::npos)
        return fail(error, "'?' in the server part"), std::nullopt;

    ImapUrlParts parts;
    if (cache != nullptr && cache->valid && authority == cache->authority) {
        // The previous URL's server part, which parsed: the same text gives
        // the same parts.  cache->parts is what parseServerPart made of a
        // fresh ImapUrlParts (no mailbox, no UIDVALIDITY), so it is this
        // URL's parts up to its path.
        parts = cache->parts;
    } else {
        if (!parseServerPart(authority, &parts, error)) return std::nullopt;
        if (cache != nullptr) {
            cache->valid = false;  // until both are stored
            cache->authority.assign(authority);
            cache->parts = parts;
            cache->valid = true;
        }
    }
    notes->anonymous = parts.user.empty() && parts.auth.empty();

    if (path.empty()) return parts;
    if (path.find('?') != std::string_view::npos)
        return fail(error, "search URLs ('?') cannot be referral targets"), std::nullopt;
    const size_t semi = path.find(';');
    const std::string_view encMailbox = path.substr(0, semi);
    if (encMailbox.empty())
        return fail(error, "message-part or URLAUTH URL without a mailbox"), std::nullopt;
    if (encMailbox.front() == '/')
        return fail(error, "unencoded leading '/' in the mailbox (R5092-12)"), std::nullopt;
    for (size_t start = 0;;) {
        const size_t end = encMailbox.find('/', start);
        if (isDotSegment(encMailbox.substr(start, end == std::string_view::npos ? end : end - start)))
            return fail(error, "unencoded dot-segment in the mailbox (R5092-12, R5092-13)"),
                   std::nullopt;
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    std::string mailbox;
    if (!percentDecode(encMailbox, kCharSets.bchar, "the mailbox name", &mailbox, error))
        return std::nullopt;
    if (mailbox.empty()) return fail(error, "empty mailbox name"), std::nullopt;
    if (!checkImapUrlName(mailbox, "the mailbox name", error)) return std::nullopt;
    notes->mailboxLooksLikeMutf7 = looksLikeMutf7(mailbox);
    parts.mailbox = std::move(mailbox);
    if (semi != std::string_view::npos) {
        const std::string_view param = path.substr(semi);
        if (!startsWithIgnoreCase(param, ";UIDVALIDITY="))
            return fail(error, "message-part or URLAUTH URLs cannot be referral targets"),
                   std::nullopt;
        uint64_t uv = 0;
        if (!parseDecimal(param.substr(13), 0xffffffffu, &uv) || uv == 0) {
            if (param.find('/') != std::string_view::npos || param.find(';', 1) != std::string_view::npos)
                return fail(error, "message-part or URLAUTH URLs cannot be referral targets"),
                       std::nullopt;
            return fail(error, "invalid ;UIDVALIDITY= value"), std::nullopt;
        }
        parts.uidValidity = static_cast<uint32_t>(uv);
    }
    return parts;
}

}  // namespace

std::optional<ImapUrlParts> parseImapUrl(std::string_view url, std::string* error) {
    return parseImapUrl(url, error, nullptr);
}

std::optional<ImapUrlParts> parseImapUrl(std::string_view url, std::string* error,
                                         ImapUrlParseNotes* notes) {
    try {
        return parseUrl(url, error, notes, nullptr);
    } catch (...) {
        fail(error, "out of memory");
        return std::nullopt;
    }
}

std::optional<ImapUrlParts> ImapUrlParser::parse(std::string_view url, std::string* error,
                                                 ImapUrlParseNotes* notes) {
    try {
        return parseUrl(url, error, notes, &server_);
    } catch (...) {
        server_.valid = false;
        fail(error, "out of memory");
        return std::nullopt;
    }
}

}  // namespace dref
