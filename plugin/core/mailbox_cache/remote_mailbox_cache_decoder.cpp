#include "remote_mailbox_cache_decoder.h"

#include <exception>
#include <new>
#include <vector>

#include "imap_url.h"
#include "line_fields.h"
#include "printable_octets.h"

namespace dref {
namespace {

bool fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
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

// The decoder; every checked mailbox goes to the sink (reserve before the
// first) in one RemoteMailbox refilled for the next: a sink that reads it in
// place (the table's builder) leaves its buffers to be reused, one that keeps
// it moves from it.
std::optional<MailboxCacheRecord> decodeChecked(std::string_view bytes,
                                                std::string_view expectedUser,
                                                std::string_view expectedIdentity,
                                                const MailboxCacheLimits& limits,
                                                RemoteMailboxSink* sink, std::string* error,
                                                bool* mismatch) {
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
    if (trailer.substr(4, 16) != mailboxCacheChecksum(body)) {
        fail(error, "checksum mismatch (file altered or damaged)");
        return std::nullopt;
    }

    Reader r(body);
    std::string_view v;
    if (!r.next(kMailboxCacheMagic, &v, error)) return std::nullopt;
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
        if (!pctDecode(f[1], kMailboxCacheMaxNameBytes, &m.name, &encoded) ||
            (encoded && !isMailboxCacheText(m.name, kMailboxCacheMaxNameBytes))) {
            fail(error, r.where() + "mailbox name is empty, too long, not UTF-8 or has controls");
            return std::nullopt;
        }
        if (!pctDecode(f[2], kMailboxCacheMaxDnBytes, &m.dn, &encoded) ||
            (encoded && !isMailboxCacheText(m.dn, kMailboxCacheMaxDnBytes))) {
            fail(error, r.where() + "DN is empty, too long, not UTF-8 or has controls");
            return std::nullopt;
        }
        m.locations.reserve(urlCount);
        for (size_t u = 0; u < urlCount; ++u) {
            if (!r.next("url", &v, error)) return std::nullopt;
            std::string why;
            auto parts = parseMailboxCacheLocation(urls, v, &why);
            if (!parts) {
                fail(error, r.where() + "URL rejected: " + why);
                return std::nullopt;
            }
            m.locations.push_back(std::move(*parts));
        }
        if (i == 0) sink->reserve(count);
        sink->take(&m);
    }
    if (!r.atEnd()) {
        fail(error, "more lines than the entry count says");
        return std::nullopt;
    }
    return rec;
}

// decodeMailboxCache's sink: every mailbox, in file order, moved from the
// decoder's (a copy would cost the allocation of every string again).
class MailboxList final : public RemoteMailboxSink {
public:
    void reserve(size_t entries) override { mailboxes.reserve(entries); }
    void take(RemoteMailbox* m) override { mailboxes.push_back(std::move(*m)); }
    void add(const RemoteMailboxView& v) override {
        RemoteMailbox m;
        m.name = v.name;
        m.dn = v.dn;
        m.personal = v.personal;
        m.locations.assign(v.locations, v.locations + v.locationCount);
        take(&m);
    }
    std::vector<RemoteMailbox> mailboxes;
};

}  // namespace

std::optional<MailboxCacheRecord> decodeMailboxCacheInto(std::string_view bytes,
                                                         std::string_view expectedUser,
                                                         std::string_view expectedIdentity,
                                                         const MailboxCacheLimits& limits,
                                                         RemoteMailboxSink* sink,
                                                         std::string* error, bool* mismatch) {
    if (mismatch) *mismatch = false;
    try {
        return decodeChecked(bytes, expectedUser, expectedIdentity, limits, sink, error, mismatch);
    } catch (const std::bad_alloc&) {
        fail(error, "out of memory");
        return std::nullopt;
    } catch (const std::exception& e) {
        fail(error, std::string("mailboxes not taken: ") + e.what());
        return std::nullopt;
    } catch (...) {
        fail(error, "out of memory");
        return std::nullopt;
    }
}

std::optional<MailboxCacheRecord> decodeMailboxCache(std::string_view bytes,
                                                     std::string_view expectedUser,
                                                     std::string_view expectedIdentity,
                                                     const MailboxCacheLimits& limits,
                                                     std::string* error, bool* mismatch) {
    MailboxList list;
    auto rec = decodeMailboxCacheInto(bytes, expectedUser, expectedIdentity, limits, &list, error,
                                      mismatch);
    if (rec) rec->mailboxes = std::move(list.mailboxes);
    return rec;
}

}  // namespace dref
