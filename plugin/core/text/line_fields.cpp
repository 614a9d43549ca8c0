#include "line_fields.h"

#include <charconv>

namespace dref {
namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

void pctEncodeAppend(std::string_view in, std::string* out) {
    static const char kDigits[] = "0123456789ABCDEF";
    size_t plain = 0;  // octets appended as they are, in runs
    for (size_t i = 0; i < in.size(); ++i) {
        const auto u = static_cast<unsigned char>(in[i]);
        if (u > 0x20 && u < 0x7f && u != '%') continue;
        out->append(in.data() + plain, i - plain);
        const char esc[3] = {'%', kDigits[u >> 4], kDigits[u & 0xf]};
        out->append(esc, 3);
        plain = i + 1;
    }
    out->append(in.data() + plain, in.size() - plain);
}

std::string pctEncode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    pctEncodeAppend(in, &out);
    return out;
}

bool pctDecode(std::string_view in, size_t maxBytes, std::string* out, bool* encoded) {
    out->clear();
    if (encoded) *encoded = false;
    if (in.find('%') == std::string_view::npos) {  // the common case: nothing encoded
        if (in.size() > maxBytes || in.find(' ') != std::string_view::npos) return false;
        out->assign(in);
        return true;
    }
    if (encoded) *encoded = true;
    out->reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (out->size() >= maxBytes) return false;
        const auto u = static_cast<unsigned char>(in[i]);
        if (u <= 0x20 || u >= 0x7f) return false;
        if (in[i] != '%') {
            out->push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size()) return false;
        const int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out->push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return true;
}

bool parseDecimal(std::string_view text, uint64_t max, uint64_t* out) {
    if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return false;
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v > max) return false;
    *out = v;
    return true;
}

bool isLowerHex16(std::string_view s) {
    if (s.size() != 16) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace dref
