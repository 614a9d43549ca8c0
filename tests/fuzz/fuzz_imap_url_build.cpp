// libFuzzer target: dref::buildImapUrl (REQUIREMENTS.md §4.5).
// Input: user 0xFF auth 0xFF host 0xFF port 0xFF [mailbox 0xFF uidvalidity]
// (port and uidvalidity in decimal; no mailbox field = a server URL).
// Invariants:
//   - a built URL is 7-bit printable without space, ']', CR, LF (R3501-1),
//     at most kMaxImapUrlLength octets, and starts "imap://";
//   - parse(build(x)) == x (user, auth, host, port, mailbox, uidvalidity
//     when a mailbox is present and it is non-zero);
//   - the error text of a refusal is one log-safe line.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "imap_url.h"

namespace {

uint32_t decimal(const std::string& s, uint32_t fallback) {
    if (s.empty() || s.size() > 10) return fallback;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return fallback;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v > UINT32_MAX ? fallback : static_cast<uint32_t>(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace dref;
    auto f = fuzz::splitFields(data, size);
    f.resize(std::max<size_t>(f.size(), 4));
    ImapUrlParts parts;
    parts.user = f[0];
    parts.auth = f[1];
    parts.host = f[2];
    parts.port = static_cast<uint16_t>(decimal(f[3], 143));
    if (f.size() > 4) parts.mailbox = f[4];
    if (f.size() > 5) parts.uidValidity = decimal(f[5], 0);

    std::string error;
    auto url = buildImapUrl(parts, &error);
    // The login plugin's in-place builder of server URLs agrees with it,
    // and leaves the buffer alone when it refuses.
    if (!parts.mailbox) {
        std::string appended = "REFERRAL ";
        std::string appendError;
        const bool ok = appendImapServerUrl(
            &appended, ImapServerUrlView{parts.user, parts.auth, parts.host, parts.port},
            &appendError);
        DREF_FUZZ_CHECK(ok == url.has_value(), appended);
        DREF_FUZZ_CHECK(ok ? appended == "REFERRAL " + *url : appended == "REFERRAL ", appended);
        DREF_FUZZ_CHECK(ok || (!appendError.empty() && fuzz::isLogSafe(appendError)), appendError);
    }
    if (!url) {
        DREF_FUZZ_CHECK(!error.empty() && fuzz::isLogSafe(error), error);
        return 0;
    }
    DREF_FUZZ_CHECK(fuzz::isReferralUrlSafe(*url), *url);
    DREF_FUZZ_CHECK(url->size() <= kMaxImapUrlLength, *url);
    DREF_FUZZ_CHECK(url->rfind("imap://", 0) == 0, *url);

    std::string parseError;
    ImapUrlParseNotes notes;
    auto back = parseImapUrl(*url, &parseError, &notes);
    DREF_FUZZ_CHECK(back.has_value(), *url + " -> " + parseError);
    DREF_FUZZ_CHECK(!notes.anonymous && !notes.missingSlash, *url);
    DREF_FUZZ_CHECK(back->user == parts.user, *url);
    DREF_FUZZ_CHECK(back->auth == parts.auth, *url);
    DREF_FUZZ_CHECK(back->host == parts.host, *url);
    DREF_FUZZ_CHECK(back->port == parts.port, *url);
    DREF_FUZZ_CHECK(back->mailbox == parts.mailbox, *url);
    std::optional<uint32_t> uidValidity;
    if (parts.mailbox && parts.uidValidity && *parts.uidValidity != 0)
        uidValidity = parts.uidValidity;
    DREF_FUZZ_CHECK(back->uidValidity == uidValidity, *url);

    // Building again from the parsed parts gives the same octets (canonical form).
    auto again = buildImapUrl(*back, &error);
    DREF_FUZZ_CHECK(again && *again == *url, *url);
    return 0;
}
