// The IMAP URL builder's details (REQUIREMENTS.md §4.1-4.2): what it
// refuses, appendImapServerUrl against buildImapUrl, and the encoders of
// userinfo and mailbox.
#include "imap_url.h"

#include <gtest/gtest.h>

#include <string>

#include "imap_url_test_util.h"

namespace dref {
namespace {

using namespace testing_url;

// appendImapServerUrl() writes exactly what buildImapUrl() builds for a
// server URL, after what the buffer holds, and leaves it alone on refusal.
TEST(ImapUrlBuild, AppendServerUrlMatchesBuild) {
    const struct {
        const char* user;
        const char* auth;
        const char* host;
        uint16_t port;
    } cases[] = {{"fred", "*", "h.example.test", 143},
                 {"j\xC3\xBCrgen@x;y", "*", "192.0.2.7", 10143},
                 {"", "*", "h.example.test", 65535},
                 {"fred", "SCRAM-SHA-256", "h.example.test", 993},
                 {"fred", "", "h.example.test", 1}};
    for (const auto& c : cases) {
        ImapUrlParts parts;
        parts.user = c.user;
        parts.auth = c.auth;
        parts.host = c.host;
        parts.port = c.port;
        std::string out = "REFERRAL ";
        std::string error;
        ASSERT_TRUE(appendImapServerUrl(&out, ImapServerUrlView{c.user, c.auth, c.host, c.port},
                                        &error)) << error;
        EXPECT_EQ(out, "REFERRAL " + *buildImapUrl(parts, nullptr));
    }
    const std::string longUser(3000, 'u');
    for (const ImapServerUrlView& bad :
         {ImapServerUrlView{"fred", "*", "::1", 143}, ImapServerUrlView{"fred", "*", "", 143},
          ImapServerUrlView{"", "", "h.example.test", 143},
          ImapServerUrlView{"a\r\nb", "*", "h.example.test", 143},
          ImapServerUrlView{"fred", "*", "h.example.test", 0},
          ImapServerUrlView{longUser, "*", "h.example.test", 143}}) {
        std::string out = "REFERRAL ";
        std::string error;
        EXPECT_FALSE(appendImapServerUrl(&out, bad, &error));
        EXPECT_EQ(out, "REFERRAL ");
        EXPECT_FALSE(error.empty());
    }
}

TEST(ImapUrlBuild, AuthStarIsLiteral_R5092_6) {
    const std::string url = build(server("fred"));
    EXPECT_NE(url.find(";AUTH=*@"), std::string::npos);
    EXPECT_EQ(url.find("%2A"), std::string::npos);
}

TEST(ImapUrlBuild, RefusesBadAuthMechanism) {
    buildError(server("fred", "GSS API"));
    buildError(server("fred", "PLAIN]"));
    buildError(server("fred", "A23456789012345678901"));  // 21 characters
    buildError(server("fred", "**"));
}

TEST(ImapUrlBuild, RefusesInvalidUtf8AndControls) {
    buildError(server("j\xC3rgen"));           // truncated sequence
    buildError(server("\xC0\xAF"));            // overlong
    buildError(server("fred\r\n"));
    buildError(mailbox("Entw\xFC" "rfe"));     // Latin-1, not UTF-8
    buildError(mailbox("\xED\xA0\x80"));       // surrogate
    buildError(mailbox(std::string("a\0b", 3)));
    buildError(mailbox("a\nb"));
}

TEST(ImapUrlBuild, RefusesEmptyMailboxAndPortZero) {
    buildError(mailbox(""));
    ImapUrlParts p = server("fred");
    p.port = 0;
    buildError(p);
}

TEST(ImapUrlBuild, RefusesOverlongUrl) {
    EXPECT_NE(buildError(mailbox(std::string(700, ' '))).find("longer"), std::string::npos);
}

TEST(ImapUrlBuild, UidValidityOnlyWithMailbox_R5092_15) {
    ImapUrlParts p = server("fred");
    p.uidValidity = 42;
    EXPECT_EQ(build(p), "imap://fred;AUTH=*@server2.example.org/");
    p.mailbox = "INBOX";
    EXPECT_EQ(build(p), "imap://fred;AUTH=*@server2.example.org/INBOX;UIDVALIDITY=42");
}

TEST(ImapUrlBuild, RefusesBadHosts_D4_D17) {
    for (const char* host :
         {"a]b", "a\rb", "a\nb", "a b", "a\tb", "host\x01", "a_b.example", "-a.example", "a-.example",
          "a..b", ".a", "a.", "\xC3\xA9.example", "a%2Eb", "a@b", "a:1", "a/b", "[::1]"}) {
        buildError(server("fred", "*", host));
    }
}

// ---------------------------------------------------------------------------
// Encoders.

TEST(ImapUrlEncode, UserinfoKeepsExactlyAchar) {
    EXPECT_EQ(encodeUserinfo("AZaz09-._~!$'()*+,&="), "AZaz09-._~!$'()*+,&=");
    EXPECT_EQ(encodeUserinfo(":@/;?#[]% \"<>\\^`{|}"),
              "%3A%40%2F%3B%3F%23%5B%5D%25%20%22%3C%3E%5C%5E%60%7B%7C%7D");
    EXPECT_EQ(encodeUserinfo(std::string("\x00\x1f\x7f\xff", 4)), "%00%1F%7F%FF");
    EXPECT_EQ(encodeUserinfo(""), "");
    // Runs of kept octets between, before and after encoded ones.
    EXPECT_EQ(encodeUserinfo("@ab@@c d@"), "%40ab%40%40c%20d%40");
    EXPECT_EQ(encodeUserinfo("ab@cd"), "ab%40cd");
}

TEST(ImapUrlEncode, MailboxKeepsBcharAndEncodesDotSegments_R5092_12) {
    EXPECT_EQ(encodeMailbox("a:b@c/d&e=f"), "a:b@c/d&e=f");
    EXPECT_EQ(encodeMailbox("."), "%2E");
    EXPECT_EQ(encodeMailbox(".."), "%2E%2E");
    EXPECT_EQ(encodeMailbox("a/."), "a/%2E");
    EXPECT_EQ(encodeMailbox("a/.."), "a/%2E%2E");
    EXPECT_EQ(encodeMailbox("a/../b"), "a/%2E%2E/b");
    EXPECT_EQ(encodeMailbox("./x"), "%2E/x");
    EXPECT_EQ(encodeMailbox("/./x"), "%2F%2E/x");
    EXPECT_EQ(encodeMailbox("/"), "%2F");
    EXPECT_EQ(encodeMailbox("//x"), "%2F/x");
    EXPECT_EQ(encodeMailbox("..."), "...");
    EXPECT_EQ(encodeMailbox(".hidden/a..b/c."), ".hidden/a..b/c.");
    EXPECT_EQ(encodeMailbox("a;b?c#d"), "a%3Bb%3Fc%23d");
}

// Every encoded mailbox parses back to itself: no dot-segment survives.
TEST(ImapUrlEncode, DotSegmentMailboxesRoundTrip_R5092_12) {
    for (const char* name : {".", "..", "/", "//", "a/./b", "../..", "/..", "a//b", "./", "x/"}) {
        const std::string url = build(mailbox(name));
        auto p = parseImapUrl(url, nullptr);
        ASSERT_TRUE(p) << url;
        EXPECT_EQ(p->mailbox, name) << url;
    }
}

}  // namespace
}  // namespace dref
