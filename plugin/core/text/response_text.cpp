#include "response_text.h"

namespace dref {

namespace {
bool isTextChar(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

std::string sanitizeOnce(std::string_view text, size_t maxLen) {
    std::string out;
    const size_t n = text.size() < maxLen ? text.size() : maxLen;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        out += isTextChar(c) ? static_cast<char>(c) : '?';
    }
    // resp-text follows "] " directly; leading or trailing blanks would only
    // make an empty-looking text (R3501-2 wants 1*TEXT-CHAR that says something).
    const size_t first = out.find_first_not_of(' ');
    if (first == std::string::npos) return std::string();
    const size_t last = out.find_last_not_of(' ');
    return out.substr(first, last - first + 1);
}
}  // namespace

std::string sanitizeResponseText(std::string_view text, std::string_view fallback,
                                 size_t maxLen) {
    try {
        if (maxLen == 0) maxLen = 1;
        std::string out = sanitizeOnce(text, maxLen);
        if (out.empty()) out = sanitizeOnce(fallback, maxLen);
        if (out.empty()) out = std::string("Failed.").substr(0, maxLen);
        return out;
    } catch (...) {
        return "Failed.";
    }
}

std::string quoteForLog(std::string_view untrusted, size_t maxLen) {
    static const char hex[] = "0123456789ABCDEF";
    try {
        std::string out;
        const bool cut = untrusted.size() > maxLen;
        const size_t n = cut ? maxLen : untrusted.size();
        out.reserve(n + 8);
        for (size_t i = 0; i < n; ++i) {
            const auto c = static_cast<unsigned char>(untrusted[i]);
            if (isTextChar(c)) {
                out += static_cast<char>(c);
            } else {
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 0x0f];
            }
        }
        if (cut) out += "...";
        return out;
    } catch (...) {
        return "(out of memory)";
    }
}

bool isWireSafeText(std::string_view text, size_t maxLen) {
    if (text.empty() || text.size() > maxLen) return false;
    if (text.front() == '[' || text.front() == ' ') return false;
    for (unsigned char c : text) {
        if (!isTextChar(c)) return false;
    }
    return true;
}

}  // namespace dref
