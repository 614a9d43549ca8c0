#include "printable_octets.h"

#include <cstdint>
#include <cstring>

namespace dref {

bool isForbiddenOctet(unsigned char c, PrintableRule rule) {
    if (c == '\n' && rule.allowLf) return false;
    return c < rule.lowest || c >= 0x7f;
}

// Per octet b of a word, in its top bit: b >= 0x80; (b & 0x7f) + 1 reaches
// 0x80 only for 0x7f; (b & 0x7f) + (0x80 - lowest) stays below 0x80 only for
// b < lowest (with b < 0x80); b == LF is the exact zero test of b ^ 0x0a.
// No sum carries into the next octet.  Only whether
// a word holds a forbidden octet is computed this way; its position is then
// found octet by octet.
size_t findForbiddenOctet(std::string_view bytes, PrintableRule rule) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
    constexpr uint64_t kTop = 0x8080808080808080ULL;
    const uint64_t below = kOnes * static_cast<uint64_t>(0x80 - (rule.lowest & 0x7f));
    size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, bytes.data() + i, 8);
        const uint64_t low = w & kLow7;
        const uint64_t del = (low + kOnes) & kTop;
        uint64_t control = ~(low + below) & ~w & kTop;
        if (rule.allowLf) {
            const uint64_t t = w ^ 0x0a0a0a0a0a0a0a0aULL;
            control &= ~(~(((t & kLow7) + kLow7) | t) & kTop);
        }
        if (((w & kTop) | del | control) != 0) break;
    }
    for (; i < bytes.size(); ++i)
        if (isForbiddenOctet(static_cast<unsigned char>(bytes[i]), rule)) return i;
    return std::string_view::npos;
}

}  // namespace dref
