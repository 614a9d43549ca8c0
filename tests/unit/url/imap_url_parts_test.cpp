// The names inside an IMAP URL (imap_url_parts.h): host names (D-4, D-17)
// and SASL mechanism names.
#include "imap_url.h"

#include <gtest/gtest.h>

#include <string>

namespace dref {
namespace {

TEST(ImapUrlHost, Valid) {
    for (const char* host : {"localhost", "server2", "SERVER2", "server2.example.org",
                             "xn--bcher-kva.example", "a1.b2", "192.0.2.7", "0.0.0.0",
                             "255.255.255.255", "123abc.example", "1-2.example.com", "a.b-c.d"}) {
        EXPECT_TRUE(isValidHostName(host)) << host;
    }
    std::string maxLabel(63, 'a');
    EXPECT_TRUE(isValidHostName(maxLabel + ".example"));
    std::string longName;
    while (longName.size() + 64 <= kMaxHostNameLength) longName += maxLabel + ".";
    longName += std::string(kMaxHostNameLength - longName.size(), 'b');
    ASSERT_EQ(longName.size(), kMaxHostNameLength);
    EXPECT_TRUE(isValidHostName(longName));
    EXPECT_FALSE(isValidHostName(longName + "b"));
}

TEST(ImapUrlHost, Invalid) {
    for (const char* host :
         {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "host.123", "a..b", "a.",
          ".", "::1", "2001:db8::7", "[::1]", "a]", "a b", "a_b", "-a", "a-", "a*b", "a\\b"}) {
        EXPECT_FALSE(isValidHostName(host)) << host;
    }
    EXPECT_FALSE(isValidHostName(std::string(64, 'a') + ".example"));
    EXPECT_FALSE(isValidHostName(std::string("a\0b", 3)));
}

// The checks are made in one pass (issue 13 item 3): each rule must hold
// for every label, not just the first or the last, and a dotted quad's
// octets are judged on their digits, whatever their count.
TEST(ImapUrlHost, EveryLabelCheckedInOnePass) {
    for (const char* host : {"1.2.3.a", "1.2.3.4a", "1.2.3.4.example", "a", "a.b.c.d.e",
                             "10.0.0.255", "9.99.199.249", "0.a", "0a.b1"}) {
        EXPECT_TRUE(isValidHostName(host)) << host;
    }
    for (const char* host :
         {"a-.b", "a.-b", "a.b-", "a.-.b", "a.b..c", ".a", "123", "a.1.2.3", "1a.2.3.4",
          "1.2.3.1000", "1.2.3.0004", "1000.2.3.4", "1.02.3.4", "1.2.00.4", "1.2.3.256",
          "999.1.1.1", "4294967297.1.1.1", "1.2.3.2555", "a.b.c.1", "a.0", "0a.1", "a.b.c.d!", "a.b/c"}) {
        EXPECT_FALSE(isValidHostName(host)) << host;
    }
    EXPECT_FALSE(isValidHostName("a." + std::string(64, 'b') + ".c"));
    EXPECT_TRUE(isValidHostName("a." + std::string(63, 'b') + ".c"));
}

TEST(ImapUrlSasl, MechanismNames) {
    EXPECT_TRUE(isValidSaslMechanism("PLAIN"));
    EXPECT_TRUE(isValidSaslMechanism("SCRAM-SHA-256"));
    EXPECT_TRUE(isValidSaslMechanism("X_OAUTH2"));
    EXPECT_TRUE(isValidSaslMechanism("A2345678901234567890"));
    EXPECT_FALSE(isValidSaslMechanism("A23456789012345678901"));
    EXPECT_FALSE(isValidSaslMechanism(""));
    EXPECT_FALSE(isValidSaslMechanism("*"));
    EXPECT_FALSE(isValidSaslMechanism("GSS API"));
}

}  // namespace
}  // namespace dref
