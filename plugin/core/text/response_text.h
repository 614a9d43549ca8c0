#pragma once
// Text that goes onto the IMAP wire after "]" (RFC 3501 resp-text): 7-bit,
// no CR/LF/NUL/controls, bounded, never empty (R3501-2, R3501-4).
#include <string>
#include <string_view>

namespace dref {

// Returns `text` with every octet outside %x20-7E replaced by '?' and cut
// to `maxLen` octets; `fallback` when the result would be empty.
std::string sanitizeResponseText(std::string_view text, std::string_view fallback,
                                 size_t maxLen = 200);

// sanitizeResponseText() into *out (its buffer reused: no allocation once
// it is large enough).  Never throws.
void assignSanitizedResponseText(std::string* out, std::string_view text,
                                 std::string_view fallback, size_t maxLen = 200);

// referral_text (settings.h) as it goes on the wire after "] " of a login
// referral: the referral passdb's `reason` and the login plugin's own text,
// prepared once per settings file by both.  sanitizeResponseText() with
// "Try this server instead." for a text of which nothing printable is left:
// a text the settings file accepted (isWireSafeText) comes back as it is,
// less trailing spaces.  Never throws.
std::string wireReferralText(std::string_view referralText);

// For log lines: printable ASCII kept, everything else as \xHH, cut at
// maxLen with "..." (Postfix's %.100s habit, made safe for control bytes).
std::string quoteForLog(std::string_view untrusted, size_t maxLen = 100);

// Appends `untrusted` as the value of one item of a "key=<value>, key=value"
// log line: as quoteForLog(), and also `\`, `<`, `>` and `,` as \xHH, so
// that a value can neither close its item nor fake another one
// ("user=<a>, rip=1.2.3.4" as a user name) and every \xHH in the line
// stands for exactly one octet of the value.  May throw std::bad_alloc.
void appendLogItemValue(std::string* out, std::string_view untrusted, size_t maxLen);

// True when `text` holds an octet below %x20 or %x7F (CR, LF, NUL, ESC, ...):
// written into a tagged reply, a CR LF would end it early and the rest would
// reach the client as a line of its own.  8-bit octets (UTF-8 mailbox names
// in Dovecot's texts) are not controls.
bool containsControlOctet(std::string_view text) noexcept;

// True when `text` may be written verbatim as resp-text: 1..maxLen octets,
// every one in %x20-7E (no CR, LF, NUL, controls or 8-bit), and not
// starting with "[" (a client would read it as a response code) or a space.
// Settings use this for the configured texts so that a bad value is refused
// at start-up instead of being silently rewritten on the wire.
bool isWireSafeText(std::string_view text, size_t maxLen = 200);

}  // namespace dref
