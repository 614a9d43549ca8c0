// libFuzzer target: the mailbox cache file decoder
// (dref::decodeMailboxCache), which every imap session runs on a file in
// mailbox_cache_dir: untrusted bytes (a planted or damaged file).
// The input is tried twice: as it is (trailer and checksum checks) and
// sealed with a correct end line (so mutations reach the checks behind the
// checksum).
// Invariants: a refusal is one log-safe line; an accepted file holds only
// values the directory mapping would accept (names and DNs valid UTF-8
// without controls, at least one location each, hosts valid, no mailbox
// part empty), its counts are within the limits, and it survives a
// re-encode/decode round trip unchanged.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "imap_url.h"
#include "mutf7.h"
#include "remote_mailbox_cache_decoder.h"
#include "remote_mailbox_cache_encoder.h"

namespace {

const char kUser[] = "alice@example.test";
const char kIdentity[] = "dafde04b8623d70b";

dref::MailboxCacheLimits limits() {
    dref::MailboxCacheLimits l;
    l.maxBytes = 1 << 20;
    l.maxEntries = 1000;
    return l;
}

bool hasControl(const std::string& s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) return true;
    }
    return s.find("\xc2\x85") != std::string::npos;
}

void checkAccepted(const dref::MailboxCacheRecord& rec) {
    using namespace dref;
    DREF_FUZZ_CHECK(rec.user == kUser && rec.identity == kIdentity, rec.user);
    DREF_FUZZ_CHECK(rec.mailboxes.size() <= limits().maxEntries, "count");
    DREF_FUZZ_CHECK(rec.answer == CachedAnswer::Found || rec.mailboxes.empty(), "not-found");
    for (const RemoteMailbox& m : rec.mailboxes) {
        DREF_FUZZ_CHECK(!m.name.empty() && isValidUtf8(m.name) && !hasControl(m.name), m.name);
        DREF_FUZZ_CHECK(!m.dn.empty() && isValidUtf8(m.dn) && !hasControl(m.dn), m.dn);
        DREF_FUZZ_CHECK(!m.locations.empty() &&
                            m.locations.size() <= kMailboxCacheMaxUrlsPerMailbox,
                        m.name);
        for (const ImapUrlParts& p : m.locations) {
            DREF_FUZZ_CHECK(isValidHostName(p.host), p.host);
            DREF_FUZZ_CHECK(!p.mailbox || (!p.mailbox->empty() && !hasControl(*p.mailbox)),
                            p.host);
        }
    }
    std::string error;
    auto again = encodeMailboxCache(rec, limits(), &error);
    DREF_FUZZ_CHECK(again.has_value(), error);
    auto back = decodeMailboxCache(*again, kUser, kIdentity, limits(), &error);
    DREF_FUZZ_CHECK(back.has_value(), error);
    DREF_FUZZ_CHECK(back->mailboxes.size() == rec.mailboxes.size(), *again);
    for (size_t i = 0; i < rec.mailboxes.size(); ++i) {
        const RemoteMailbox& a = rec.mailboxes[i];
        const RemoteMailbox& b = back->mailboxes[i];
        DREF_FUZZ_CHECK(a.name == b.name && a.dn == b.dn && a.personal == b.personal &&
                            a.locations.size() == b.locations.size(),
                        a.name);
        for (size_t j = 0; j < a.locations.size(); ++j) {
            DREF_FUZZ_CHECK(a.locations[j].host == b.locations[j].host &&
                                a.locations[j].user == b.locations[j].user &&
                                a.locations[j].auth == b.locations[j].auth &&
                                a.locations[j].port == b.locations[j].port &&
                                a.locations[j].mailbox == b.locations[j].mailbox,
                            a.locations[j].host);
        }
    }
}

void decodeOnce(std::string_view bytes) {
    std::string error;
    bool mismatch = false;
    auto rec = dref::decodeMailboxCache(bytes, kUser, kIdentity, limits(), &error, &mismatch);
    if (!rec) {
        DREF_FUZZ_CHECK(!error.empty() && dref::fuzz::isLogSafe(error), error);
        return;
    }
    DREF_FUZZ_CHECK(!mismatch, "mismatch set on success");
    checkAccepted(*rec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    decodeOnce(bytes);
    std::string body = bytes;
    const size_t end = body.rfind("end ");
    if (end != std::string::npos && (end == 0 || body[end - 1] == '\n')) body.resize(end);
    decodeOnce(body + "end " + dref::mailboxCacheChecksum(body) + "\n");
    return 0;
}
