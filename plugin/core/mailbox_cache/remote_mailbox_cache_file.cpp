#include "remote_mailbox_cache_file.h"

#include <charconv>
#include <cstring>
#include <exception>

#include "imap_url.h"
#include "mutf7.h"
#include "line_fields.h"
#include "printable_octets.h"

namespace dref {
namespace {

constexpr std::string_view kMagic = "dovecot-referral-mailbox-cache";
constexpr size_t kMaxNameBytes = 1024;  // imapMailboxName is {1024}, as entry_mapping checks

uint64_t fnv1a(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ULL) {
    for (char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

// The end line's checksum: 8 bytes per step (a file of 1,000 entries is
// about 160 kB, read by every session start).  Catches damage, not forgery:
// whoever can write the file can also recompute it.
uint64_t bodyChecksum(std::string_view bytes) {
    constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
    uint64_t h = 0x6a09e667f3bcc908ULL ^ bytes.size();
    size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, bytes.data() + i, 8);
        h = (h ^ w) * kMul;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
    h = (h ^ tail) * kMul;
    h ^= h >> 29;
    h *= kMul;
    return h ^ (h >> 32);
}

std::string hex64(uint64_t v) {
    static const char kDigits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i) {
        out[static_cast<size_t>(i)] = kDigits[v & 0xf];
        v >>= 4;
    }
    return out;
}

bool fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
}

// What the directory mapping accepts as a mailbox name (entry_mapping.cpp).
bool validText(std::string_view s, size_t maxBytes) {
    if (s.empty() || s.size() > maxBytes) return false;
    bool printableAscii = true;  // one branch-free pass for the common case
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        printableAscii &= u >= 0x20 && u < 0x7f;
    }
    return printableAscii || (isValidUtf8(s) && !hasControlCharacter(s));
}

// A location as a URL that parseImapUrl gives back unchanged.  Unlike
// buildImapUrl it keeps what the directory wrote: no user and no ;AUTH=
// (the referral builder adds them later), an explicit ;AUTH= mechanism.
std::string locationUrl(const ImapUrlParts& p) {
    std::string url = "imap://";
    if (!p.user.empty() || !p.auth.empty()) {
        url += encodeUserinfo(p.user);
        if (!p.auth.empty()) {
            url += ";AUTH=";
            url += p.auth == "*" ? std::string("*") : encodeUserinfo(p.auth);
        }
        url += '@';
    }
    url += p.host;
    if (p.port != 143) url += ':' + std::to_string(p.port);
    url += '/';
    if (p.mailbox) {
        url += encodeMailbox(*p.mailbox);
        if (p.uidValidity) url += ";UIDVALIDITY=" + std::to_string(*p.uidValidity);
    }
    return url;
}

bool sameLocation(const ImapUrlParts& a, const ImapUrlParts& b) {
    if (a.user != b.user || a.auth != b.auth || a.host != b.host || a.port != b.port ||
        a.mailbox != b.mailbox)
        return false;
    return !a.mailbox || a.uidValidity == b.uidValidity;  // ignored without a mailbox
}

// What entry_mapping checks of an imapMailboxURL beyond parseImapUrl, on
// that parse's result `parts`.  parseImapUrl checks the host with
// isValidHostName and the mailbox part (non-empty, UTF-8, no C0 controls);
// entry_mapping also refuses C1 controls (U+0080..U+009F) and names over
// 1024 octets in it, and so does this (found by fuzz_mailbox_cache_file:
// regress-c1-in-url-mailbox).
std::optional<ImapUrlParts> checkedLocation(std::optional<ImapUrlParts> parts, std::string* why) {
    if (!parts) return std::nullopt;
    if (parts->mailbox && !validText(*parts->mailbox, kMaxNameBytes)) {
        *why = "mailbox part too long or has control characters";
        return std::nullopt;
    }
    return parts;
}

// Validates one location the way entry_mapping does for imapMailboxURL
// (`parser`: a decoder's URLs in a row, parsed with parseImapUrl's checks).
std::optional<ImapUrlParts> parseLocation(ImapUrlParser& parser, std::string_view url,
                                          std::string* why) {
    return checkedLocation(parser.parse(url, why), why);
}

// The same for a single URL.
std::optional<ImapUrlParts> parseLocation(std::string_view url, std::string* why) {
    return checkedLocation(parseImapUrl(url, why), why);
}

bool parseCount(std::string_view text, size_t max, size_t* out) {
    uint64_t v = 0;
    if (text.size() > 10 || !parseDecimal(text, max, &v)) return false;
    *out = static_cast<size_t>(v);
    return true;
}


// What no line of the file holds: a control octet other than LF, DEL, 8-bit.
constexpr PrintableRule kFileOctets{0x20, true};

// Reads the file line by line; every error names the line number.
class Reader {
public:
    explicit Reader(std::string_view body) : rest_(body) {}

    // The next line split at its first space into keyword and value.
    bool next(std::string_view keyword, std::string_view* value, std::string* error) {
        ++line_;
        const size_t nl = rest_.find('\n');
        if (nl == std::string_view::npos)
            return fail(error, where() + "missing (file truncated)");
        std::string_view l = rest_.substr(0, nl);
        rest_.remove_prefix(nl + 1);
        const size_t sp = l.find(' ');
        if (sp == std::string_view::npos || l.substr(0, sp) != keyword)
            return fail(error, where() + "expected '" + std::string(keyword) + "'");
        *value = l.substr(sp + 1);
        return true;
    }
    bool atEnd() const { return rest_.empty(); }
    std::string where() const { return "line " + std::to_string(line_) + ": "; }

private:
    std::string_view rest_;
    size_t line_ = 0;
};

// Splits `value` at single spaces into exactly n fields.
bool splitFields(std::string_view value, size_t n, std::vector<std::string_view>* out) {
    out->clear();
    while (true) {
        const size_t sp = value.find(' ');
        out->push_back(value.substr(0, sp));
        if (out->back().empty()) return false;
        if (sp == std::string_view::npos) break;
        value.remove_prefix(sp + 1);
        if (out->size() == n) return false;
    }
    return out->size() == n;
}

// The decoder; `take` gets each checked mailbox as it is decoded, in a
// RemoteMailbox it may move from (decodeMailboxCache keeps them in the
// record) or only read (decodeMailboxCacheInto: the same object is reused
// for the next mailbox, so its buffers are allocated once).
template <typename Take>
std::optional<MailboxCacheRecord> decodeChecked(std::string_view bytes,
                                                std::string_view expectedUser,
                                                std::string_view expectedIdentity,
                                                const MailboxCacheLimits& limits,
                                                std::string* error, bool* mismatch,
                                                Take&& take) {
    if (bytes.size() > limits.maxBytes) {
        fail(error, "file of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                        std::to_string(limits.maxBytes));
        return std::nullopt;
    }
    const size_t forbidden = findForbiddenOctet(bytes, kFileOctets);
    if (forbidden != std::string_view::npos) {
        fail(error, "control or 8-bit octet at offset " + std::to_string(forbidden));
        return std::nullopt;
    }
    // The trailer is checked first: a truncated or altered file stops here
    // before any of its counts is believed.
    const size_t endAt = bytes.rfind("\nend ");
    if (endAt == std::string_view::npos) {
        fail(error, "no end line (file truncated)");
        return std::nullopt;
    }
    const std::string_view body = bytes.substr(0, endAt + 1);
    const std::string_view trailer = bytes.substr(endAt + 1);
    if (trailer.size() != 4 + 16 + 1 || trailer.back() != '\n' ||
        !isLowerHex16(trailer.substr(4, 16))) {
        fail(error, "malformed end line");
        return std::nullopt;
    }
    if (trailer.substr(4, 16) != hex64(bodyChecksum(body))) {
        fail(error, "checksum mismatch (file altered or damaged)");
        return std::nullopt;
    }

    Reader r(body);
    std::string_view v;
    if (!r.next(kMagic, &v, error)) return std::nullopt;
    if (v != std::to_string(kMailboxCacheFormatVersion)) {
        fail(error, "format version is not " + std::to_string(kMailboxCacheFormatVersion));
        return std::nullopt;
    }
    MailboxCacheRecord rec;
    if (!r.next("user", &v, error)) return std::nullopt;
    if (!pctDecode(v, kMailboxCacheMaxUserBytes, &rec.user)) {
        fail(error, r.where() + "malformed user name");
        return std::nullopt;
    }
    if (rec.user != expectedUser) {
        if (mismatch) *mismatch = true;
        fail(error, "the file is for another user");
        return std::nullopt;
    }
    if (!r.next("identity", &v, error)) return std::nullopt;
    if (v != expectedIdentity) {
        if (mismatch) *mismatch = true;
        fail(error, "written under other directory settings");
        return std::nullopt;
    }
    rec.identity = std::string(v);
    if (!r.next("answer", &v, error)) return std::nullopt;
    if (v == "found") rec.answer = CachedAnswer::Found;
    else if (v == "not-found") rec.answer = CachedAnswer::NotFound;
    else {
        fail(error, r.where() + "answer is neither found nor not-found");
        return std::nullopt;
    }
    if (!r.next("entries", &v, error)) return std::nullopt;
    size_t count = 0;
    if (!parseCount(v, limits.maxEntries, &count)) {
        fail(error, r.where() + "entry count is not a number of at most " +
                        std::to_string(limits.maxEntries));
        return std::nullopt;
    }
    if (rec.answer == CachedAnswer::NotFound && count != 0) {
        fail(error, r.where() + "a not-found answer with entries");
        return std::nullopt;
    }
    // Every entry takes at least two lines of 20+ bytes: a count the body
    // cannot hold is refused before anything is reserved for it.
    if (count > body.size() / 32) {
        fail(error, r.where() + "entry count larger than the file can hold");
        return std::nullopt;
    }
    std::vector<std::string_view> f;
    ImapUrlParser urls;
    RemoteMailbox m;
    for (size_t i = 0; i < count; ++i) {
        if (!r.next("mailbox", &v, error)) return std::nullopt;
        m.locations.clear();
        size_t urlCount = 0;
        if (!splitFields(v, 4, &f) || (f[0] != "personal" && f[0] != "shared") ||
            !parseCount(f[3], kMailboxCacheMaxUrlsPerMailbox, &urlCount) || urlCount == 0) {
            fail(error, r.where() + "malformed mailbox line");
            return std::nullopt;
        }
        m.personal = f[0] == "personal";
        bool encoded = false;
        // A value without "%XX" is printable ASCII: only its length is left to check.
        if (!pctDecode(f[1], kMaxNameBytes, &m.name, &encoded) ||
            (encoded && !validText(m.name, kMaxNameBytes))) {
            fail(error, r.where() + "mailbox name is empty, too long, not UTF-8 or has controls");
            return std::nullopt;
        }
        if (!pctDecode(f[2], kMailboxCacheMaxDnBytes, &m.dn, &encoded) ||
            (encoded && !validText(m.dn, kMailboxCacheMaxDnBytes))) {
            fail(error, r.where() + "DN is empty, too long, not UTF-8 or has controls");
            return std::nullopt;
        }
        m.locations.reserve(urlCount);
        for (size_t u = 0; u < urlCount; ++u) {
            if (!r.next("url", &v, error)) return std::nullopt;
            std::string why;
            auto parts = parseLocation(urls, v, &why);
            if (!parts) {
                fail(error, r.where() + "URL rejected: " + why);
                return std::nullopt;
            }
            m.locations.push_back(std::move(*parts));
        }
        take(m, count);
    }
    if (!r.atEnd()) {
        fail(error, "more lines than the entry count says");
        return std::nullopt;
    }
    return rec;
}

}  // namespace

std::string mailboxCacheIdentity(const DirectorySettings& s) {
    uint64_t h = fnv1a("v" + std::to_string(kMailboxCacheFormatVersion));
    auto mix = [&h](std::string_view field) {
        h = fnv1a(std::to_string(field.size()) + ":", h);  // length-prefixed: no ambiguity
        h = fnv1a(field, h);
    };
    for (const std::string& uri : s.uris) mix(uri);
    mix("|");
    for (const std::string* f : {&s.userBase, &s.userScope, &s.userFilter, &s.mailboxSharedBase,
                                 &s.mailboxFilter, &s.mailboxNameAttribute, &s.mailboxUrlAttribute})
        mix(*f);
    mix(std::to_string(s.mailboxMaxEntries));
    return hex64(h);
}

std::string mailboxCacheChecksum(std::string_view body) { return hex64(bodyChecksum(body)); }

std::string mailboxCacheFileName(std::string_view user) {
    return hex64(fnv1a(user)) + ".mailboxes";
}

namespace {

// What the lines before the entries say, checked before anything is written.
bool checkHeader(std::string_view user, std::string_view identity, CachedAnswer answer,
                 size_t count, const MailboxCacheLimits& limits, std::string* error) {
    if (user.empty() || user.size() > kMailboxCacheMaxUserBytes)
        return fail(error, "user name empty or too long");
    if (!isLowerHex16(identity)) return fail(error, "malformed identity");
    if (count > limits.maxEntries)
        return fail(error, std::to_string(count) + " entries exceed the limit");
    if (answer == CachedAnswer::NotFound && count != 0)
        return fail(error, "a not-found answer with entries");
    return true;
}

// The lines before the entries (checkHeader passed).
void appendHeader(std::string_view user, std::string_view identity, CachedAnswer answer,
                  size_t count, std::string* out) {
    out->append(kMagic).append(" ").append(std::to_string(kMailboxCacheFormatVersion)).append("\n");
    out->append("user ").append(pctEncode(user)).append("\n");
    out->append("identity ").append(identity).append("\n");
    out->append("answer ").append(answer == CachedAnswer::Found ? "found" : "not-found");
    out->append("\nentries ").append(std::to_string(count)).append("\n");
}

// The end line, then the size limit.
bool appendTrailer(const MailboxCacheLimits& limits, std::string* out, std::string* error) {
    const std::string sum = hex64(bodyChecksum(*out));  // of everything before "end"
    out->append("end ").append(sum).append("\n");
    if (out->size() > limits.maxBytes)
        return fail(error, "encoded table of " + std::to_string(out->size()) +
                               " bytes exceeds the limit");
    return true;
}

}  // namespace

namespace {

// appendMailboxCacheEntry with or without the locations' source texts
// (nullptr: every location is parsed back).
bool appendEntry(const RemoteMailbox& m, const std::vector<std::string_view>* sourceUrls,
                 std::string* out, std::string* error) {
    const size_t start = out->size();
    auto refuse = [&](std::string why) {
        out->resize(start);  // nothing of a refused entry stays
        return fail(error, std::move(why));
    };
    try {
        if (!validText(m.name, kMaxNameBytes)) return refuse("a mailbox name cannot be cached");
        if (!validText(m.dn, kMailboxCacheMaxDnBytes)) return refuse("a DN cannot be cached");
        if (m.locations.empty() || m.locations.size() > kMailboxCacheMaxUrlsPerMailbox)
            return refuse("a mailbox has no or too many locations");
        out->append("mailbox ").append(m.personal ? "personal " : "shared ");
        pctEncodeAppend(m.name, out);
        out->push_back(' ');
        pctEncodeAppend(m.dn, out);
        out->push_back(' ');
        out->append(std::to_string(m.locations.size())).append("\n");
        for (size_t i = 0; i < m.locations.size(); ++i) {
            const ImapUrlParts& loc = m.locations[i];
            const std::string url = locationUrl(loc);
            out->append("url ").append(url).append("\n");
            if (sourceUrls != nullptr && i < sourceUrls->size() && (*sourceUrls)[i] == url)
                continue;  // parsed from this very text: the round trip holds
            std::string why;
            auto back = parseLocation(url, &why);
            if (!back || !sameLocation(*back, loc))
                return refuse("a location does not survive a round trip" +
                              (why.empty() ? std::string() : ": " + why));
        }
        return true;
    } catch (...) {
        return refuse("out of memory");
    }
}

}  // namespace

bool appendMailboxCacheEntry(const RemoteMailbox& m, std::string* out, std::string* error) {
    return appendEntry(m, nullptr, out, error);
}

bool appendMailboxCacheEntry(const RemoteMailbox& m, const std::vector<std::string_view>& sourceUrls,
                             std::string* out, std::string* error) {
    return appendEntry(m, &sourceUrls, out, error);
}

std::optional<std::string> assembleMailboxCache(std::string_view user, std::string_view identity,
                                                CachedAnswer answer, size_t count,
                                                std::string_view entryLines,
                                                const MailboxCacheLimits& limits,
                                                std::string* error) try {
    if (!checkHeader(user, identity, answer, count, limits, error)) return std::nullopt;
    std::string out;
    out.reserve(256 + entryLines.size() + 32);
    appendHeader(user, identity, answer, count, &out);
    out.append(entryLines);
    if (!appendTrailer(limits, &out, error)) return std::nullopt;
    return out;
} catch (...) {
    fail(error, "out of memory");
    return std::nullopt;
}

std::optional<std::string> encodeMailboxCache(const MailboxCacheRecord& rec,
                                              const MailboxCacheLimits& limits,
                                              std::string* error) try {
    if (!checkHeader(rec.user, rec.identity, rec.answer, rec.mailboxes.size(), limits, error))
        return std::nullopt;
    std::string out;
    out.reserve(256 + rec.mailboxes.size() * 160);
    appendHeader(rec.user, rec.identity, rec.answer, rec.mailboxes.size(), &out);
    for (const RemoteMailbox& m : rec.mailboxes)
        if (!appendMailboxCacheEntry(m, &out, error)) return std::nullopt;
    if (!appendTrailer(limits, &out, error)) return std::nullopt;
    return out;
} catch (...) {
    fail(error, "out of memory");
    return std::nullopt;
}

std::optional<MailboxCacheRecord> decodeMailboxCache(std::string_view bytes,
                                                     std::string_view expectedUser,
                                                     std::string_view expectedIdentity,
                                                     const MailboxCacheLimits& limits,
                                                     std::string* error, bool* mismatch) {
    if (mismatch) *mismatch = false;
    try {
        std::vector<RemoteMailbox> mailboxes;
        auto rec = decodeChecked(bytes, expectedUser, expectedIdentity, limits, error, mismatch,
                                 [&mailboxes](RemoteMailbox& m, size_t count) {
                                     if (mailboxes.empty()) mailboxes.reserve(count);
                                     mailboxes.push_back(std::move(m));
                                 });
        if (rec) rec->mailboxes = std::move(mailboxes);
        return rec;
    } catch (...) {
        fail(error, "out of memory");
        return std::nullopt;
    }
}

std::optional<MailboxCacheRecord> decodeMailboxCacheInto(std::string_view bytes,
                                                         std::string_view expectedUser,
                                                         std::string_view expectedIdentity,
                                                         const MailboxCacheLimits& limits,
                                                         RemoteMailboxSink* sink,
                                                         std::string* error, bool* mismatch) {
    if (mismatch) *mismatch = false;
    try {
        bool reserved = false;
        return decodeChecked(bytes, expectedUser, expectedIdentity, limits, error, mismatch,
                             [sink, &reserved](const RemoteMailbox& m, size_t count) {
                                 if (!reserved) sink->reserve(count);
                                 reserved = true;
                                 sink->add(viewOf(m));
                             });
    } catch (const std::exception& e) {
        fail(error, std::string("mailboxes not taken: ") + e.what());
        return std::nullopt;
    } catch (...) {
        fail(error, "out of memory");
        return std::nullopt;
    }
}

}  // namespace dref
