#pragma once
#include <string_view>

namespace dref {
// Shell-style glob with '*' (any run of octets, also empty) and '?' (exactly
// one octet), ASCII case-insensitive; used for client-ID rules.  No escape
// character: client ID names never need a literal '*' or '?'.
// No backtracking: the pattern is cut at its stars and each piece is matched
// at its leftmost place, which is correct for star-separated pieces and
// bounds the work by |pattern| * |text| (typically linear) whatever the input.
bool globMatch(std::string_view pattern, std::string_view text);
}  // namespace dref
