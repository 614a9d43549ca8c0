#pragma once
#include <string_view>

namespace dref {
// Shell-style glob with '*' and '?', ASCII case-insensitive; used for
// client-ID rules.  Linear-time (no exponential backtracking).
bool globMatch(std::string_view pattern, std::string_view text);
}  // namespace dref
