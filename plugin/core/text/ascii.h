#pragma once
// ASCII-only case folding.  IMAP keywords, host names, policy names and
// setting values compare case-insensitively in ASCII only; std::tolower would
// follow the process locale, which a Dovecot process does not control.
#include <string_view>

namespace dref {

inline char asciiLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool equalsIgnoreCaseAscii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (asciiLower(a[i]) != asciiLower(b[i])) return false;
    }
    return true;
}

}  // namespace dref
