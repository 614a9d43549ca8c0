#include "response_text.h"

namespace dref {

namespace {
bool isTextChar(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

// Writes the sanitized text to *out (cleared first); false when nothing
// that says something is left.
bool sanitizeOnce(std::string_view text, size_t maxLen, std::string* out) {
    const size_t n = text.size() < maxLen ? text.size() : maxLen;
    // resp-text follows "] " directly; leading or trailing blanks would only
    // make an empty-looking text (R3501-2 wants 1*TEXT-CHAR that says something).
    size_t i = 0;
    while (i < n && text[i] == ' ') ++i;
    out->assign(text.data() + i, n - i);
    for (char& c : *out) {
        if (!isTextChar(static_cast<unsigned char>(c))) c = '?';
    }
    const size_t last = out->find_last_not_of(' ');
    if (last == std::string::npos) {
        out->clear();
        return false;
    }
    out->resize(last + 1);
    return true;
}

// Which octets a quoted value keeps as they are: printable ASCII, less
// the octets in `alsoEscaped`.
struct PlainOctets {
    bool plain[256] = {};
};

constexpr PlainOctets makePlainOctets(std::string_view alsoEscaped) {
    PlainOctets t;
    for (int c = 0x20; c <= 0x7e; ++c) t.plain[c] = true;
    for (char c : alsoEscaped) t.plain[static_cast<unsigned char>(c)] = false;
    return t;
}

constexpr PlainOctets kLogText = makePlainOctets("");
constexpr PlainOctets kLogItem = makePlainOctets("\\<>,");

// \xHH for every octet that `keep` does not keep.  Runs of kept octets are
// appended whole (a login referral's note quotes the user at every login:
// issue 13 item 3).
void appendQuoted(std::string* out, std::string_view untrusted, size_t maxLen,
                  const PlainOctets& keep) {
    static const char hex[] = "0123456789ABCDEF";
    const bool cut = untrusted.size() > maxLen;
    const size_t n = cut ? maxLen : untrusted.size();
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(untrusted[i]);
        if (keep.plain[c]) continue;
        out->append(untrusted.data() + start, i - start);
        const char escape[4] = {'\\', 'x', hex[c >> 4], hex[c & 0x0f]};
        out->append(escape, sizeof escape);
        start = i + 1;
    }
    out->append(untrusted.data() + start, n - start);
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

std::string wireReferralText(std::string_view referralText) {
    return sanitizeResponseText(referralText, "Try this server instead.");
}

std::string quoteForLog(std::string_view untrusted, size_t maxLen) {
    try {
        std::string out;
        out.reserve((untrusted.size() > maxLen ? maxLen : untrusted.size()) + 8);
        appendQuoted(&out, untrusted, maxLen, kLogText);
        return out;
    } catch (...) {
        return "(out of memory)";
    }
}

void appendLogItemValue(std::string* out, std::string_view untrusted, size_t maxLen) {
    appendQuoted(out, untrusted, maxLen, kLogItem);
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
