#pragma once
// Shared helpers of the libFuzzer targets: splitting the fuzz input into
// fields, and the wire/log invariants every target checks.
//
// Field separator: the octet 0xFF.  It never occurs in valid UTF-8, so no
// value that could pass validation needs it, and seeds stay readable.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace dref::fuzz {

constexpr char kFieldSeparator = '\xff';

inline std::vector<std::string> splitFields(const uint8_t* data, size_t size,
                                            char separator = kFieldSeparator) {
    std::vector<std::string> fields(1);
    for (size_t i = 0; i < size; ++i) {
        char c = static_cast<char>(data[i]);
        if (c == separator) {
            fields.emplace_back();
        } else {
            fields.back().push_back(c);
        }
    }
    return fields;
}

// An invariant broke: print what and abort, so libFuzzer saves the input.
[[noreturn]] inline void invariantFailed(const char* file, int line, const char* what,
                                         std::string_view detail) {
    std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n  detail: ", file, line, what);
    for (char c : detail) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '\\') {
            std::fputc(c, stderr);
        } else {
            std::fprintf(stderr, "\\x%02X", u);
        }
    }
    std::fputc('\n', stderr);
    std::abort();
}

#define DREF_FUZZ_CHECK(cond, detail)                                                     \
    do {                                                                                  \
        if (!(cond)) ::dref::fuzz::invariantFailed(__FILE__, __LINE__, #cond, (detail)); \
    } while (0)

// What may stand inside "[REFERRAL ...]": 7-bit printable, no space, no ']'
// (R3501-1), never CR, LF or NUL.
inline bool isReferralUrlSafe(std::string_view url) {
    if (url.empty()) return false;
    for (char c : url) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == ']') return false;
    }
    return true;
}

// What a log line may carry from untrusted input: no C0 controls (CR, LF,
// NUL, ESC ...) and no DEL; 8-bit is left to the logger.
inline bool isLogSafe(std::string_view text) {
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return false;
    }
    return true;
}

}  // namespace dref::fuzz
