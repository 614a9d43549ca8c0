#include "response_text.h"

namespace dref {

namespace {
bool isTextChar(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

// Writes the sanitized text to *out (cleared first); false when nothing
// that says something is left.
bool sanitizeOnce(std::string_view text, size_t maxLen, std::string* out) {
    out->clear();
    const size_t n = text.size() < maxLen ? text.size() : maxLen;
    // resp-text follows "] " directly; leading or trailing blanks would only
    // make an empty-looking text (R3501-2 wants 1*TEXT-CHAR that says something).
    size_t i = 0;
    while (i < n && text[i] == ' ') ++i;
    for (; i < n; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        *out += isTextChar(c) ? static_cast<char>(c) : '?';
    }
    const size_t last = out->find_last_not_of(' ');
    if (last == std::string::npos) {
        out->clear();
        return false;
    }
    out->resize(last + 1);
    return true;
}

// \xHH for every octet outside printable ASCII, and for the octets in
// `alsoEscaped`.
void appendQuoted(std::string* out, std::string_view untrusted, size_t maxLen,
                  std::string_view alsoEscaped) {
    static const char hex[] = "0123456789ABCDEF";
    const bool cut = untrusted.size() > maxLen;
    const size_t n = cut ? maxLen : untrusted.size();
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(untrusted[i]);
        if (isTextChar(c) && alsoEscaped.find(static_cast<char>(c)) == std::string_view::npos) {
            *out += static_cast<char>(c);
        } else {
            *out += "\\x";
            *out += hex[c >> 4];
            *out += hex[c & 0x0f];
        }
    }
    if (cut) *out += "...";
}
}  // namespace

void assignSanitizedResponseText(std::string* out, std::string_view text,
                                 std::string_view fallback, size_t maxLen) {
    try {
        if (maxLen == 0) maxLen = 1;
        if (sanitizeOnce(text, maxLen, out) || sanitizeOnce(fallback, maxLen, out)) return;
        out->assign("Failed.", maxLen < 7 ? maxLen : 7);
    } catch (...) {
        *out = "Failed.";
    }
}

std::string sanitizeResponseText(std::string_view text, std::string_view fallback,
                                 size_t maxLen) {
    try {
        std::string out;
        assignSanitizedResponseText(&out, text, fallback, maxLen);
        return out;
    } catch (...) {
        return "Failed.";
    }
}

std::string quoteForLog(std::string_view untrusted, size_t maxLen) {
    try {
        std::string out;
        out.reserve((untrusted.size() > maxLen ? maxLen : untrusted.size()) + 8);
        appendQuoted(&out, untrusted, maxLen, std::string_view());
        return out;
    } catch (...) {
        return "(out of memory)";
    }
}

void appendLogItemValue(std::string* out, std::string_view untrusted, size_t maxLen) {
    appendQuoted(out, untrusted, maxLen, "\\<>,");
}

bool containsControlOctet(std::string_view text) noexcept {
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
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
