// The percent form shared by the mailbox cache file and the directory
// service protocol (plugin/core/text/line_fields.h): pctEncodeAppend writes
// in place what pctEncode returns, and pctDecode gives every value back.
#include <gtest/gtest.h>

#include <string>

#include "line_fields.h"

namespace dref {
namespace {

TEST(LineFields, AppendKeepsWhatIsThereAndEncodesLikePctEncode) {
    const std::string values[] = {"", "plain", "with space", "100%", "a\nb\rc", "Büro",
                                  std::string("nul\0nul", 7), "\x7f\x80\xff", "%%  %%"};
    for (const std::string& v : values) {
        std::string out = "head ";
        pctEncodeAppend(v, &out);
        EXPECT_EQ(out, "head " + pctEncode(v));
        std::string back;
        ASSERT_TRUE(pctDecode(out.substr(5), 1024, &back)) << out;
        EXPECT_EQ(back, v);
    }
}

TEST(LineFields, EveryOctetOutsidePrintableAsciiSpaceAndPercentIsEscaped) {
    for (int u = 0; u < 256; ++u) {
        const std::string in(1, static_cast<char>(u));
        std::string out;
        pctEncodeAppend(in, &out);
        const bool plain = u > 0x20 && u < 0x7f && u != '%';
        if (plain) {
            EXPECT_EQ(out, in);
        } else {
            static const char kDigits[] = "0123456789ABCDEF";
            const std::string expected = {'%', kDigits[u >> 4], kDigits[u & 0xf]};
            EXPECT_EQ(out, expected) << u;
        }
    }
    std::string out;
    pctEncodeAppend("a b%c", &out);  // runs of plain octets around escapes
    EXPECT_EQ(out, "a%20b%25c");
}

}  // namespace
}  // namespace dref
