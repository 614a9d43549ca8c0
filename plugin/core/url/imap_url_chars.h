#pragma once
// RFC 5092 §11, the character sets that matter for referral URLs, for the
// parser and the builder of IMAP URLs only (not an interface of the url/
// concern):
//   sub-delims-sh = "!" / "$" / "'" / "(" / ")" / "*" / "+" / ","
//   uchar  = unreserved / sub-delims-sh / pct-encoded
//   achar  = uchar / "&" / "="
//   bchar  = achar / ":" / "@" / "/"
// The builder encodes exactly the octets outside these sets (D-12), with
// uppercase hex as RFC 3986 §2.1 recommends; the parser accepts exactly
// these raw and everything else percent-encoded.
#include <string>
#include <string_view>
#include <utility>

namespace dref::imap_url_chars {

constexpr bool isAlnum(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

constexpr bool isAcharSlow(unsigned char c) {
    if (isAlnum(c)) return true;
    switch (c) {
        case '-': case '.': case '_': case '~':                        // unreserved
        case '!': case '$': case '\'': case '(': case ')': case '*':  // sub-delims-sh
        case '+': case ',':
        case '&': case '=':
            return true;
        default:
            return false;
    }
}

// The two sets as tables: every octet of every directory URL is looked up,
// three times per remote mailbox on the way to an imap process (issue 13
// item 4).
struct CharSets {
    bool achar[256] = {};
    bool bchar[256] = {};
};

constexpr CharSets makeCharSets() {
    CharSets t;
    for (int c = 0; c < 256; ++c) {
        const auto u = static_cast<unsigned char>(c);
        t.achar[c] = isAcharSlow(u);
        t.bchar[c] = t.achar[c] || u == ':' || u == '@' || u == '/';
    }
    return t;
}

inline constexpr CharSets kCharSets = makeCharSets();

inline bool isAchar(unsigned char c) { return kCharSets.achar[c]; }
inline bool isBchar(unsigned char c) { return kCharSets.bchar[c]; }

inline bool isAllDigits(std::string_view s) {
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return !s.empty();
}

// "." and ".." would be resolved as dot-segments (R5092-12, R5092-13).
inline bool isDotSegment(std::string_view seg) { return seg == "." || seg == ".."; }

// Sets *error (when given) and returns false: `return fail(error, "...")`.
inline bool fail(std::string* error, std::string message) {
    if (error) *error = std::move(message);
    return false;
}

}  // namespace dref::imap_url_chars
