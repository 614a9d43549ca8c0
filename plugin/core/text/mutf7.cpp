#include "mutf7.h"

#include <cstdint>
#include <vector>

// RFC 3501 §5.1.3: "printable US-ASCII characters, except for "&",
// represent themselves [...] "&" is used to shift to modified BASE64 and "-"
// to shift back to US-ASCII.  There is no implicit shift from BASE64 to
// US-ASCII, and null shifts ("-&" while in BASE64; note that "&-" while in
// US-ASCII means "&") are not permitted."  The decoder below accepts exactly
// what a minimal encoder produces, so every mailbox name has one wire form.

namespace dref {

namespace {

constexpr char kBase64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int base64Value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

bool isPrintableAscii(uint32_t cp) { return cp >= 0x20 && cp <= 0x7e; }

void setError(std::string* error, const char* message) {
    if (error) *error = message;
}

void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

// Decodes one UTF-8 sequence at s[*pos]; advances *pos.  Strict per RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF.
bool nextCodePoint(std::string_view s, size_t* pos, uint32_t* cp) {
    const size_t i = *pos;
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        *cp = b0;
        *pos = i + 1;
        return true;
    }
    size_t len;
    uint32_t value;
    uint32_t min;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        len = 2, value = b0 & 0x1f, min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        len = 3, value = b0 & 0x0f, min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        len = 4, value = b0 & 0x07, min = 0x10000;
    } else {
        return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xc0) != 0x80) return false;
        value = (value << 6) | (b & 0x3f);
    }
    if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return false;
    *cp = value;
    *pos = i + len;
    return true;
}

// Decodes the base64 run of one shift (without '&' and '-') and appends the
// characters as UTF-8.
bool decodeShift(std::string_view b64, std::string& out, std::string* error) {
    uint32_t bits = 0;
    int nbits = 0;
    std::vector<uint16_t> units;
    for (unsigned char c : b64) {
        const int v = base64Value(c);
        if (v < 0) {
            setError(error, "invalid character in modified BASE64");
            return false;
        }
        bits = ((bits << 6) | static_cast<uint32_t>(v)) & 0xffffff;
        nbits += 6;
        if (nbits >= 16) {
            nbits -= 16;
            units.push_back(static_cast<uint16_t>((bits >> nbits) & 0xffff));
        }
    }
    // A minimal encoder leaves fewer than 6 pad bits, all zero.
    if (nbits >= 6) {
        setError(error, "non-minimal modified BASE64 (extra character)");
        return false;
    }
    if ((bits & ((1u << nbits) - 1)) != 0) {
        setError(error, "non-zero pad bits in modified BASE64");
        return false;
    }
    for (size_t i = 0; i < units.size(); ++i) {
        uint32_t cp = units[i];
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            setError(error, "unpaired low surrogate");
            return false;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (i + 1 >= units.size() || units[i + 1] < 0xdc00 || units[i + 1] > 0xdfff) {
                setError(error, "unpaired high surrogate");
                return false;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (units[i + 1] - 0xdc00);
            ++i;
        }
        if (cp == 0) {
            setError(error, "NUL in mailbox name");
            return false;
        }
        if (isPrintableAscii(cp)) {
            setError(error, "printable US-ASCII encoded in modified BASE64");
            return false;
        }
        appendUtf8(out, cp);
    }
    return true;
}

void appendShift(std::string& out, const std::vector<uint16_t>& units) {
    out += '&';
    uint32_t bits = 0;
    int nbits = 0;
    for (uint16_t u : units) {
        bits = ((bits << 16) | u) & 0xffffff;
        nbits += 16;
        while (nbits >= 6) {
            nbits -= 6;
            out += kBase64[(bits >> nbits) & 0x3f];
        }
    }
    if (nbits > 0) out += kBase64[(bits << (6 - nbits)) & 0x3f];
    out += '-';
}

}  // namespace

bool hasControlCharacter(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) return true;
        if (c == 0xc2 && i + 1 < s.size()) {
            const auto n = static_cast<unsigned char>(s[i + 1]);
            if (n >= 0x80 && n <= 0x9f) return true;
        }
    }
    return false;
}

bool isValidUtf8(std::string_view s) {
    size_t pos = 0;
    uint32_t cp;
    while (pos < s.size()) {
        // ASCII (most names, every URL) needs no decoding: this keeps the
        // check cheap for the mailbox cache file's thousands of values.
        if (static_cast<unsigned char>(s[pos]) < 0x80) {
            ++pos;
            continue;
        }
        if (!nextCodePoint(s, &pos, &cp)) return false;
    }
    return true;
}

std::optional<std::string> mutf7ToUtf8(std::string_view wire, std::string* error) try {
    std::string out;
    out.reserve(wire.size());
    bool lastWasShift = false;  // a base64 shift just ended
    size_t i = 0;
    while (i < wire.size()) {
        const auto c = static_cast<unsigned char>(wire[i]);
        if (c != '&') {
            if (!isPrintableAscii(c)) {
                setError(error, c >= 0x80 ? "8-bit octet in modified UTF-7"
                                          : "control character in mailbox name");
                return std::nullopt;
            }
            out += static_cast<char>(c);
            lastWasShift = false;
            ++i;
            continue;
        }
        const size_t end = wire.find('-', i + 1);
        if (end == std::string_view::npos) {
            setError(error, "unterminated '&' shift");
            return std::nullopt;
        }
        const std::string_view b64 = wire.substr(i + 1, end - i - 1);
        if (b64.empty()) {
            out += '&';
            lastWasShift = false;
        } else {
            // Two adjacent shifts are one shift in a minimal encoding.
            if (lastWasShift) {
                setError(error, "non-minimal modified UTF-7 (adjacent shifts)");
                return std::nullopt;
            }
            if (!decodeShift(b64, out, error)) return std::nullopt;
            lastWasShift = true;
        }
        i = end + 1;
    }
    return out;
} catch (...) {
    setError(error, "out of memory");
    return std::nullopt;
}

std::optional<std::string> utf8ToMutf7(std::string_view utf8, std::string* error) try {
    std::string out;
    out.reserve(utf8.size() + utf8.size() / 2);
    std::vector<uint16_t> pending;
    size_t pos = 0;
    while (pos < utf8.size()) {
        uint32_t cp;
        if (!nextCodePoint(utf8, &pos, &cp)) {
            setError(error, "invalid UTF-8");
            return std::nullopt;
        }
        if (cp == 0) {
            setError(error, "NUL in mailbox name");
            return std::nullopt;
        }
        if (isPrintableAscii(cp)) {
            if (!pending.empty()) {
                appendShift(out, pending);
                pending.clear();
            }
            if (cp == '&')
                out += "&-";
            else
                out += static_cast<char>(cp);
            continue;
        }
        if (cp >= 0x10000) {
            const uint32_t v = cp - 0x10000;
            pending.push_back(static_cast<uint16_t>(0xd800 + (v >> 10)));
            pending.push_back(static_cast<uint16_t>(0xdc00 + (v & 0x3ff)));
        } else {
            pending.push_back(static_cast<uint16_t>(cp));
        }
    }
    if (!pending.empty()) appendShift(out, pending);
    return out;
} catch (...) {
    setError(error, "out of memory");
    return std::nullopt;
}

}  // namespace dref
