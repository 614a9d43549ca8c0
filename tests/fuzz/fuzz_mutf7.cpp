// libFuzzer target: modified UTF-7 (RFC 3501 §5.1.3) both ways.
// Invariants, for arbitrary octets x:
//   - decode(x) succeeds => its result is valid UTF-8 without NUL and
//     encode(decode(x)) == x (the decoder accepts only the canonical form);
//   - encode(x) succeeds <=> x is valid UTF-8 without NUL, and then the
//     result is printable US-ASCII and decode(encode(x)) == x.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "mutf7.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace dref;
    std::string_view input(reinterpret_cast<const char*>(data), size);

    std::string error;
    if (auto utf8 = mutf7ToUtf8(input, &error)) {
        DREF_FUZZ_CHECK(isValidUtf8(*utf8), input);
        DREF_FUZZ_CHECK(utf8->find('\0') == std::string::npos, input);
        auto wire = utf8ToMutf7(*utf8, &error);
        DREF_FUZZ_CHECK(wire.has_value(), std::string(input) + " -> " + error);
        DREF_FUZZ_CHECK(*wire == input, std::string(input) + " -> " + *wire);
    } else {
        DREF_FUZZ_CHECK(!error.empty() && fuzz::isLogSafe(error), error);
    }

    const bool encodable = isValidUtf8(input) && input.find('\0') == std::string_view::npos;
    error.clear();
    auto wire = utf8ToMutf7(input, &error);
    DREF_FUZZ_CHECK(wire.has_value() == encodable, std::string(input) + " -> " + error);
    if (!wire) {
        DREF_FUZZ_CHECK(!error.empty() && fuzz::isLogSafe(error), error);
        return 0;
    }
    for (char c : *wire) DREF_FUZZ_CHECK(c >= 0x20 && c < 0x7f, *wire);
    auto back = mutf7ToUtf8(*wire, &error);
    DREF_FUZZ_CHECK(back.has_value(), *wire + " -> " + error);
    DREF_FUZZ_CHECK(*back == input, *wire);
    return 0;
}
