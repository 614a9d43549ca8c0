#pragma once
// Fields of our line formats (the mailbox cache file, the directory service
// protocol), shared so that both read exactly the same way.
//
// The percent form of free-form values: every octet that is not printable
// ASCII, plus space and '%' itself, becomes %XX (uppercase hex), so a value
// is one space-free token of printable ASCII.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dref {

std::string pctEncode(std::string_view in);
// The same, appended to *out (no string of its own per value).
void pctEncodeAppend(std::string_view in, std::string* out);

// Accepts only what pctEncode writes: printable ASCII without space, and
// "%XX".  At most maxBytes decoded octets.  *encoded (when given) tells
// whether any "%XX" was there.  The caller has already refused every octet
// outside printable ASCII (its line-wide check); the fast path without '%'
// relies on that and only looks for spaces.
bool pctDecode(std::string_view in, size_t maxBytes, std::string* out, bool* encoded = nullptr);

// A decimal number without sign or leading zero, at most `max`.
bool parseDecimal(std::string_view text, uint64_t max, uint64_t* out);

// Exactly 16 lower-case hex digits (identities and checksums).
bool isLowerHex16(std::string_view s);

}  // namespace dref
