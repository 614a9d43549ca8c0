// Unit tests of plugin/core/text/ip_text (the passdb driver's listener
// address, written without inet_ntop()): the same text as Dovecot's
// net_ip2addr().
#include <gtest/gtest.h>

#include <string>

#include "ip_text.h"

namespace dref {
namespace {

std::string text(IpFamily family, const unsigned char* bytes) {
    std::string out = "x=";
    appendIpAddress(&out, family, bytes);
    return out;
}

TEST(IpText, Ipv4AsDottedQuad) {
    const unsigned char v4[4] = {192, 0, 2, 7};
    EXPECT_EQ(text(IpFamily::V4, v4), "x=192.0.2.7");
    const unsigned char edge[4] = {0, 10, 100, 255};
    EXPECT_EQ(text(IpFamily::V4, edge), "x=0.10.100.255");
}

// IPv6 compressed as inet_ntop() writes it, and nothing for a client on a
// UNIX socket.
TEST(IpText, Ipv6CompressedAndNoAddress) {
    const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07};
    EXPECT_EQ(text(IpFamily::V6, v6), "x=2001:db8::7");
    EXPECT_EQ(text(IpFamily::None, nullptr), "x=");
}

}  // namespace
}  // namespace dref
