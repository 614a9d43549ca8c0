#include "remote_mailbox_cache_encoder.h"

#include "imap_url.h"
#include "line_fields.h"

namespace dref {
namespace {

bool fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
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
    out->append(kMailboxCacheMagic).append(" ");
    out->append(std::to_string(kMailboxCacheFormatVersion)).append("\n");
    out->append("user ").append(pctEncode(user)).append("\n");
    out->append("identity ").append(identity).append("\n");
    out->append("answer ").append(answer == CachedAnswer::Found ? "found" : "not-found");
    out->append("\nentries ").append(std::to_string(count)).append("\n");
}

// The end line, then the size limit.
bool appendTrailer(const MailboxCacheLimits& limits, std::string* out, std::string* error) {
    const std::string sum = mailboxCacheChecksum(*out);  // of everything before "end"
    out->append("end ").append(sum).append("\n");
    if (out->size() > limits.maxBytes)
        return fail(error, "encoded table of " + std::to_string(out->size()) +
                               " bytes exceeds the limit");
    return true;
}

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
        if (!isMailboxCacheText(m.name, kMailboxCacheMaxNameBytes))
            return refuse("a mailbox name cannot be cached");
        if (!isMailboxCacheText(m.dn, kMailboxCacheMaxDnBytes))
            return refuse("a DN cannot be cached");
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
            auto back = parseMailboxCacheLocation(url, &why);
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

bool appendMailboxCacheEntry(const RemoteMailbox& m,
                             const std::vector<std::string_view>& sourceUrls, std::string* out,
                             std::string* error) {
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

}  // namespace dref
