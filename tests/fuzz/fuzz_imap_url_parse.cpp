// libFuzzer target: dref::parseImapUrl on arbitrary octets (directory values
// imapHomeServerURL / imapMailboxURL are untrusted, REQUIREMENTS.md §4.5).
// Invariants:
//   - a refusal has a one-line, log-safe error;
//   - accepted parts hold no CR, LF or NUL, valid UTF-8 user and mailbox, a
//     valid host (isValidHostName), a non-zero port;
//   - once a user is supplied when the URL had none (as a referral does),
//     build(parts) is referral-safe and parse(build(parts)) == parts.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "imap_url.h"
#include "mutf7.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace dref;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string error;
    ImapUrlParseNotes notes;
    auto parts = parseImapUrl(input, &error, &notes);
    if (!parts) {
        DREF_FUZZ_CHECK(!error.empty() && fuzz::isLogSafe(error), error);
        return 0;
    }
    DREF_FUZZ_CHECK(input.size() <= kMaxImapUrlLength, input);
    DREF_FUZZ_CHECK(isValidHostName(parts->host), parts->host);
    DREF_FUZZ_CHECK(parts->port != 0, input);
    DREF_FUZZ_CHECK(isValidUtf8(parts->user), input);
    DREF_FUZZ_CHECK(fuzz::isLogSafe(parts->user), input);
    if (parts->mailbox) {
        DREF_FUZZ_CHECK(isValidUtf8(*parts->mailbox), input);
        DREF_FUZZ_CHECK(parts->mailbox->find_first_of(std::string("\r\n\0", 3)) ==
                            std::string::npos,
                        input);
    }
    DREF_FUZZ_CHECK(notes.anonymous == (parts->user.empty() && parts->auth.empty()), input);

    ImapUrlParts referral = *parts;
    if (referral.user.empty()) referral.user = "fuzz.user";
    if (referral.auth.empty()) referral.auth = "*";
    if (referral.mailbox && referral.mailbox->empty()) referral.mailbox.reset();
    if (referral.uidValidity && (!referral.mailbox || *referral.uidValidity == 0))
        referral.uidValidity.reset();
    std::string buildError;
    auto url = buildImapUrl(referral, &buildError);
    if (!url) {
        // Only the length limit may refuse what the parser accepted: the
        // canonical form can be longer (added user, percent-encoding).
        DREF_FUZZ_CHECK(buildError.find("longer than") != std::string::npos,
                        std::string(input) + " -> " + buildError);
        return 0;
    }
    DREF_FUZZ_CHECK(fuzz::isReferralUrlSafe(*url), *url);
    auto back = parseImapUrl(*url, &error);
    DREF_FUZZ_CHECK(back.has_value(), *url + " -> " + error);
    DREF_FUZZ_CHECK(back->user == referral.user && back->auth == referral.auth &&
                        back->host == referral.host && back->port == referral.port &&
                        back->mailbox == referral.mailbox &&
                        back->uidValidity == referral.uidValidity,
                    *url);
    return 0;
}
