// findForbiddenOctet reads eight octets per step: every octet value at
// every position of a word and of the tail must be found exactly where an
// octet-by-octet check finds it, under both rules in use (the directory
// answer's lines: controls but LF, DEL, 8-bit; a URL: also the space and LF).
#include "printable_octets.h"

#include <gtest/gtest.h>

#include <string>

namespace dref {
namespace {

size_t firstOctetByOctet(const std::string& s, PrintableRule rule) {
    for (size_t i = 0; i < s.size(); ++i)
        if (isForbiddenOctet(static_cast<unsigned char>(s[i]), rule)) return i;
    return std::string::npos;
}

TEST(PrintableOctets, TheRulesInUse) {
    const PrintableRule lines{0x20, true}, url{0x21, false};
    for (int v = 0; v < 256; ++v) {
        const auto c = static_cast<unsigned char>(v);
        EXPECT_EQ(isForbiddenOctet(c, lines), (v < 0x20 && v != '\n') || v >= 0x7f) << v;
        EXPECT_EQ(isForbiddenOctet(c, url), v <= 0x20 || v >= 0x7f) << v;
    }
}

TEST(PrintableOctets, EveryOctetAtEveryPositionOfWordsAndTail) {
    const std::string clean = "0123456789abcdefghijklmnopq~!";  // 29: 3 words + a tail
    for (const PrintableRule rule : {PrintableRule{0x20, true}, PrintableRule{0x21, false}}) {
        EXPECT_EQ(findForbiddenOctet(clean, rule), std::string::npos);
        for (size_t pos = 0; pos < clean.size(); ++pos) {
            for (int v = 0; v < 256; ++v) {
                std::string s = clean;
                s[pos] = static_cast<char>(v);
                ASSERT_EQ(findForbiddenOctet(s, rule), firstOctetByOctet(s, rule))
                    << "rule " << int(rule.lowest) << " pos " << pos << " octet " << v;
                // A second forbidden octet later does not hide the first.
                s.back() = '\x80';
                ASSERT_EQ(findForbiddenOctet(s, rule), firstOctetByOctet(s, rule))
                    << "rule " << int(rule.lowest) << " pos " << pos << " octet " << v;
            }
        }
    }
}

TEST(PrintableOctets, EmptyAndShortTexts) {
    EXPECT_EQ(findForbiddenOctet("", PrintableRule{}), std::string::npos);
    EXPECT_EQ(findForbiddenOctet("a b", PrintableRule{0x21, false}), 1u);
    EXPECT_EQ(findForbiddenOctet("a b", PrintableRule{0x20, false}), std::string::npos);
    EXPECT_EQ(findForbiddenOctet("ab\n", PrintableRule{0x20, true}), std::string::npos);
    EXPECT_EQ(findForbiddenOctet("ab\n", PrintableRule{0x20, false}), 2u);
}

}  // namespace
}  // namespace dref
