#include "remote_mailbox_cache_file.h"

#include <cstring>

#include "mutf7.h"

namespace dref {
namespace {

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

// What entry_mapping checks of an imapMailboxURL beyond parseImapUrl, on
// that parse's result `parts`.  parseImapUrl checks the host with
// isValidHostName and the mailbox part (non-empty, UTF-8, no C0 controls);
// entry_mapping also refuses C1 controls (U+0080..U+009F) and names over
// 1024 octets in it, and so does this (found by fuzz_mailbox_cache_file:
// regress-c1-in-url-mailbox).
std::optional<ImapUrlParts> checkedLocation(std::optional<ImapUrlParts> parts, std::string* why) {
    if (!parts) return std::nullopt;
    if (parts->mailbox && !isMailboxCacheText(*parts->mailbox, kMailboxCacheMaxNameBytes)) {
        *why = "mailbox part too long or has control characters";
        return std::nullopt;
    }
    return parts;
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

bool isMailboxCacheText(std::string_view s, size_t maxBytes) {
    if (s.empty() || s.size() > maxBytes) return false;
    bool printableAscii = true;  // one branch-free pass for the common case
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        printableAscii &= u >= 0x20 && u < 0x7f;
    }
    return printableAscii || (isValidUtf8(s) && !hasControlCharacter(s));
}

std::optional<ImapUrlParts> parseMailboxCacheLocation(ImapUrlParser& parser, std::string_view url,
                                                      std::string* why) {
    return checkedLocation(parser.parse(url, why), why);
}

std::optional<ImapUrlParts> parseMailboxCacheLocation(std::string_view url, std::string* why) {
    return checkedLocation(parseImapUrl(url, why), why);
}

}  // namespace dref
