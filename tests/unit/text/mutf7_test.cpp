// Modified UTF-7 (RFC 3501 §5.1.3), the first step of REQUIREMENTS.md §4.4.
#include "mutf7.h"

#include <gtest/gtest.h>

#include <string>

namespace dref {
namespace {

struct Pair {
    const char* name;
    std::string wire;
    std::string utf8;
};

class Mutf7RoundTripTest : public ::testing::TestWithParam<Pair> {};

TEST_P(Mutf7RoundTripTest, Decodes) {
    std::string error;
    auto utf8 = mutf7ToUtf8(GetParam().wire, &error);
    ASSERT_TRUE(utf8.has_value()) << error;
    EXPECT_EQ(*utf8, GetParam().utf8);
}

TEST_P(Mutf7RoundTripTest, Encodes) {
    std::string error;
    auto wire = utf8ToMutf7(GetParam().utf8, &error);
    ASSERT_TRUE(wire.has_value()) << error;
    EXPECT_EQ(*wire, GetParam().wire);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc3501, Mutf7RoundTripTest,
    ::testing::Values(
        Pair{"empty", "", ""}, Pair{"ascii", "INBOX", "INBOX"},
        Pair{"ampersand", "&-", "&"},
        Pair{"ampersand_in_name", "Shared/Sales &- Ops", "Shared/Sales & Ops"},
        // RFC 3501 §5.1.3 example and RFC 5092 §9.
        Pair{"rfc3501_example", "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
             "~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"},
        Pair{"rfc5092_example", "~peter/&ZeVnLIqe-/&U,BTFw-",
             "~peter/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E/\xE5\x8F\xB0\xE5\x8C\x97"},
        Pair{"umlaut", "Entw&APw-rfe", "Entw\xC3\xBCrfe"},
        Pair{"three_umlauts", "&AOQA9gD8-", "\xC3\xA4\xC3\xB6\xC3\xBC"},
        Pair{"surrogate_pair", "&2D3eAA-", "\xF0\x9F\x98\x80"},
        Pair{"ampersand_then_shift", "&-&AOQ-", "&\xC3\xA4"},
        Pair{"shift_then_ampersand", "a&AOQ-&-", "a\xC3\xA4&"},
        Pair{"control_char", "&AAE-", "\x01"}, Pair{"del", "&AH8-", "\x7F"},
        Pair{"tab_and_newline", "a&AAkACg-b", "a\t\nb"},
        Pair{"max_code_point", "&2,,f,w-", "\xF4\x8F\xBF\xBF"},
        Pair{"minus_stays", "a-b&-c-", "a-b&c-"}),
    [](const auto& info) { return std::string(info.param.name); });

struct Bad {
    const char* name;
    std::string wire;
    const char* errorPart;
};

class Mutf7RejectTest : public ::testing::TestWithParam<Bad> {};

TEST_P(Mutf7RejectTest, Rejected) {
    std::string error;
    auto utf8 = mutf7ToUtf8(GetParam().wire, &error);
    EXPECT_FALSE(utf8.has_value()) << *utf8;
    EXPECT_NE(error.find(GetParam().errorPart), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Strict, Mutf7RejectTest,
    ::testing::Values(
        Bad{"unterminated_shift", "&AOQ", "unterminated"}, Bad{"lone_ampersand", "abc&", "unterminated"},
        Bad{"bad_base64_equals", "&A=Q-", "invalid character"},
        Bad{"bad_base64_slash", "&AO/-", "invalid character"},  // '/' is ',' in modified BASE64
        Bad{"bad_base64_space", "&AO Q-", "invalid character"},
        Bad{"non_minimal_extra_char", "&AOQA-", "non-minimal"},
        Bad{"adjacent_shifts", "&AOQ-&APY-", "adjacent"},
        Bad{"pad_bits", "&AOR-", "pad bits"},
        Bad{"unpaired_high_surrogate", "&2D0-", "high surrogate"},
        Bad{"high_then_non_low", "&2D0A5A-", "high surrogate"},
        Bad{"unpaired_low_surrogate", "&3gA-", "low surrogate"},
        Bad{"eight_bit_octet", "Entw\xFCrfe", "8-bit"},
        Bad{"utf8_raw", "Entw\xC3\xBCrfe", "8-bit"},
        Bad{"encoded_printable_ascii", "&AGE-", "printable"},
        Bad{"encoded_ampersand", "&ACY-", "printable"},
        Bad{"encoded_nul", "&AAA-", "NUL"},
        Bad{"raw_control", "a\tb", "control"},
        Bad{"raw_nul", std::string("a\0b", 3), "control"},
        Bad{"raw_cr_lf", "a\r\nb", "control"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Mutf7Encode, RejectsInvalidUtf8) {
    for (const std::string& bad :
         {std::string("\xC3"), std::string("\xC0\x80"), std::string("\xC1\xBF"),
          std::string("\xE0\x80\xAF"), std::string("\xED\xA0\x80"), std::string("\xED\xBF\xBF"),
          std::string("\xF4\x90\x80\x80"), std::string("\xF5\x80\x80\x80"), std::string("\xFF"),
          std::string("\x80"), std::string("a\xE6\x97"), std::string("\xF0\x9F\x98")}) {
        std::string error;
        EXPECT_FALSE(utf8ToMutf7(bad, &error)) << bad;
        EXPECT_NE(error.find("UTF-8"), std::string::npos);
    }
}

TEST(Mutf7Encode, RejectsNul) {
    std::string error;
    EXPECT_FALSE(utf8ToMutf7(std::string("a\0b", 3), &error));
    EXPECT_NE(error.find("NUL"), std::string::npos);
}

TEST(Mutf7, NullErrorPointerIsFine) {
    EXPECT_FALSE(mutf7ToUtf8("&", nullptr));
    EXPECT_FALSE(utf8ToMutf7("\xFF", nullptr));
}

// Every code point (sampled across all planes) survives encode + decode, and
// the wire form is printable US-ASCII only.
TEST(Mutf7, RoundTripsAcrossAllPlanes) {
    std::string utf8;
    int count = 0;
    for (uint32_t cp = 1; cp <= 0x10FFFF; cp += (cp < 0x800 ? 1 : 61)) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        if (cp < 0x80) {
            utf8 += static_cast<char>(cp);
        } else if (cp < 0x800) {
            utf8 += static_cast<char>(0xC0 | (cp >> 6));
            utf8 += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            utf8 += static_cast<char>(0xE0 | (cp >> 12));
            utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            utf8 += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            utf8 += static_cast<char>(0xF0 | (cp >> 18));
            utf8 += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            utf8 += static_cast<char>(0x80 | (cp & 0x3F));
        }
        ++count;
        if (count % 7 == 0) utf8 += "a";  // break the base64 runs at varying offsets
    }
    ASSERT_TRUE(isValidUtf8(utf8));
    std::string error;
    auto wire = utf8ToMutf7(utf8, &error);
    ASSERT_TRUE(wire) << error;
    for (unsigned char c : *wire) ASSERT_TRUE(c >= 0x20 && c <= 0x7E);
    auto back = mutf7ToUtf8(*wire, &error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, utf8);
}

// One-octet changes to a valid name either decode to something that
// re-encodes identically or are rejected: there is exactly one wire form.
TEST(Mutf7, SingleOctetMutationsKeepOneWireForm) {
    const std::string base = "~peter/&ZeVnLIqe-/&U,BTFw-/Entw&APw-rfe/&2D3eAA-&-";
    for (size_t i = 0; i < base.size(); ++i) {
        for (int c = 0; c < 256; ++c) {
            std::string wire = base;
            wire[i] = static_cast<char>(c);
            auto utf8 = mutf7ToUtf8(wire);
            if (!utf8) continue;
            auto again = utf8ToMutf7(*utf8);
            ASSERT_TRUE(again) << wire;
            EXPECT_EQ(*again, wire);
        }
    }
}

TEST(Utf8, Validation) {
    EXPECT_TRUE(isValidUtf8(""));
    EXPECT_TRUE(isValidUtf8("plain"));
    EXPECT_TRUE(isValidUtf8(std::string("a\0b", 3)));  // NUL is UTF-8; callers reject it
    EXPECT_TRUE(isValidUtf8("\xC2\x80"));              // U+0080
    EXPECT_TRUE(isValidUtf8("\xED\x9F\xBF"));          // U+D7FF
    EXPECT_TRUE(isValidUtf8("\xEE\x80\x80"));          // U+E000
    EXPECT_TRUE(isValidUtf8("\xEF\xBF\xBF"));          // U+FFFF
    EXPECT_TRUE(isValidUtf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF
    EXPECT_FALSE(isValidUtf8("\x80"));
    EXPECT_FALSE(isValidUtf8("\xC2"));
    EXPECT_FALSE(isValidUtf8("\xC2\x41"));
    EXPECT_FALSE(isValidUtf8("\xC0\x80"));
    EXPECT_FALSE(isValidUtf8("\xE0\x9F\xBF"));      // overlong U+07FF
    EXPECT_FALSE(isValidUtf8("\xF0\x8F\xBF\xBF"));  // overlong U+FFFF
    EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));      // U+D800
    EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // U+110000
    EXPECT_FALSE(isValidUtf8("\xFE\xFF"));
}

}  // namespace
}  // namespace dref
