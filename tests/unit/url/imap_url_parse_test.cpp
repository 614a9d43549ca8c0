// The IMAP URL parser's details (REQUIREMENTS.md §4.1-4.3): keywords,
// encodings, ports, userinfo, UIDVALIDITY, limits, its errors; ImapUrlParser
// (URLs in a row) against parseImapUrl; the raw-octet check.
#include "imap_url.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imap_url_test_util.h"

namespace dref {
namespace {

using namespace testing_url;

TEST(ImapUrlParse, CaseInsensitiveKeywords_R5092_20) {
    auto p = parseImapUrl("iMaP://Fred;auth=*@Server2.Example.ORG:993/INBOX;uidvalidity=7", nullptr);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->user, "Fred");
    EXPECT_EQ(p->auth, "*");
    EXPECT_EQ(p->host, "Server2.Example.ORG");
    EXPECT_EQ(p->port, 993);
    EXPECT_EQ(p->uidValidity, 7u);
}

TEST(ImapUrlParse, AcceptsOverEncodingAndLowerHex) {
    auto p = parseImapUrl("imap://fred;AUTH=*@server2/Shared/Sales%20%26%20Ops/%c3%bc%2f", nullptr);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->mailbox, "Shared/Sales & Ops/\xC3\xBC/");
    EXPECT_EQ(build(*p), "imap://fred;AUTH=*@server2/Shared/Sales%20&%20Ops/%C3%BC/");
}

TEST(ImapUrlParse, BadPercentEncoding) {
    parseError("imap://fred%G1@server2/");
    parseError("imap://fred@server2/INBOX%4");
    parseError("imap://fred@server2/INBOX%");
}

TEST(ImapUrlParse, DecodedValuesMustBeCleanUtf8_R5092_11) {
    EXPECT_NE(parseError("imap://fred%FF@server2/").find("UTF-8"), std::string::npos);
    parseError("imap://fred@server2/%C0%AF");        // overlong "/"
    parseError("imap://fred@server2/%ED%A0%80");     // surrogate
    parseError("imap://fred@server2/a%00b");         // NUL
    parseError("imap://fred%0D%0A@server2/");        // CR LF in the user
    parseError("imap://fred@server2/a%0D%0A* BYE");  // and a space
}

TEST(ImapUrlParse, WireInjectionRefused_R3501_4) {
    parseError("imap://fred@server2/\r\nA1 OK");
    parseError("imap://fred@server2/a b");
    parseError("imap://fred@server2/a]b");
    parseError(std::string("imap://fred@server2/a\0b", 23));
    parseError("imap://fred@server2/a\x7f");
}

TEST(ImapUrlParse, UnencodedSlashOrDotSegmentsInMailbox_R5092_12) {
    parseError("imap://fred@server2//leading");
    parseError("imap://fred@server2/a/../b");
    parseError("imap://fred@server2/./x");
    parseError("imap://fred@server2/x/..");
    parseError("imap://fred@server2/..");
    auto p = parseImapUrl("imap://fred@server2/a/.../.hidden/x..y", nullptr);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->mailbox, "a/.../.hidden/x..y");
}

TEST(ImapUrlParse, Ports) {
    parseError("imap://fred@server2:0/");
    parseError("imap://fred@server2:65536/");
    parseError("imap://fred@server2:/");
    parseError("imap://fred@server2:14a/");
    parseError("imap://fred@server2:143:1/");
    parseError("imap://fred@server2:-1/");
    auto p = parseImapUrl("imap://fred@server2:65535/", nullptr);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->port, 65535);
}

TEST(ImapUrlParse, UserinfoSyntax) {
    parseError("imap://@server2/");
    parseError("imap://fred:secret@server2/");  // passwords are not IMAP URL syntax
    parseError("imap://fred;FOO=bar@server2/");
    parseError("imap://fred;AUTH=@server2/");
    parseError("imap://fred;AUTH=GSS%20API@server2/");
    parseError("imap://fred;AUTH=*;AUTH=*@server2/");
    auto p = parseImapUrl("imap://;AUTH=*@server2/", nullptr);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->user, "");
    EXPECT_EQ(p->auth, "*");
}

TEST(ImapUrlParse, UidValidity) {
    parseError("imap://fred@server2/INBOX;UIDVALIDITY=0");
    parseError("imap://fred@server2/INBOX;UIDVALIDITY=4294967296");
    parseError("imap://fred@server2/INBOX;UIDVALIDITY=");
    parseError("imap://fred@server2/INBOX;UIDVALIDITY=012");
    parseError("imap://fred@server2/INBOX;URLAUTH=anonymous:internal:abc");
    parseError("imap://fred@server2/;UID=1");
    auto p = parseImapUrl("imap://fred@server2/INBOX;UIDVALIDITY=4294967295", nullptr);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->uidValidity, 4294967295u);
}

TEST(ImapUrlParse, FragmentAndQueryRefused) {
    parseError("imap://fred@server2/INBOX#x");
    parseError("imap://fred@server2?x/");
}

TEST(ImapUrlParse, LengthLimit) {
    std::string url = "imap://fred@server2/";
    url += std::string(kMaxImapUrlLength - url.size(), 'a');
    EXPECT_TRUE(parseImapUrl(url, nullptr));
    url += 'a';
    EXPECT_NE(parseError(url).find("longer"), std::string::npos);
    parseError("");
}

TEST(ImapUrlParse, ErrorsDoNotEchoControlBytes) {
    std::string error;
    EXPECT_FALSE(parseImapUrl("imap://fred@bad\x01host/", &error));
    for (unsigned char c : error) EXPECT_TRUE(c >= 0x20 && c < 0x7f);
    EXPECT_FALSE(parseImapUrl("imap://fred@bad_host/", &error));
    EXPECT_NE(error.find("bad_host"), std::string::npos);
}

TEST(ImapUrlParse, NullErrorPointerIsFine) {
    EXPECT_FALSE(parseImapUrl("imap://fred@/", nullptr));
    EXPECT_FALSE(buildImapUrl(server("fred", "*", ""), nullptr));
}

// ImapUrlParser (many URLs in a row, the server part of the previous one
// reused when its text repeats) gives every URL exactly parseImapUrl's
// answer: parts, error and notes, whatever came before it.  The sequence
// repeats server parts after good and bad URLs, after a server part that
// failed, with another port, user, ;AUTH= or case only.
TEST(ImapUrlParser, EveryUrlGetsParseImapUrlsAnswer) {
    const std::vector<std::string> urls = {
        "imap://h1.example.test:10143/Remote/a",
        "imap://h1.example.test:10143/Remote/b;UIDVALIDITY=7",
        "imap://h1.example.test:10143/Remote/%00",
        "imap://h1.example.test:10143/../x",
        "imap://h1.example.test:10143/Remote/c",
        "imap://h1.example.test:10144/Remote/c",
        "imap://h1.example.test/Remote/c",
        "imap://H1.example.test/Remote/c",
        "imap://h1.example.test",
        "imap://h1.example.test/",
        "imap://bad_host/x",
        "imap://bad_host/x",
        "imap://h1.example.test:99999/x",
        "imap://h1.example.test:99999/x",
        "imap://fred@h1.example.test/INBOX",
        "imap://fred@h1.example.test/INBOX?x",
        "imap://fred;AUTH=*@h1.example.test/INBOX",
        "imap://fred;AUTH=%2A@h1.example.test/INBOX",
        "imap://fred;AUTH=%2A@h1.example.test/INBOX",
        "imap://;AUTH=PLAIN@h1.example.test/INBOX",
        "imap://@h1.example.test/INBOX",
        "imap://h1.example.test?x/INBOX",
        "imap://[::1]/INBOX",
        "imap://h1.example.test/&AOQ-",
        "imap://h1.example.test/a#b",
        "IMAP://h1.example.test/a b",
        "imap://h1.example.test/Remote/a",
    };
    ImapUrlParser parser;
    for (int pass = 0; pass < 2; ++pass) {
        for (const std::string& url : urls) {
            std::string expectedError, error;
            ImapUrlParseNotes expectedNotes, notes;
            const auto expected = parseImapUrl(url, &expectedError, &expectedNotes);
            const auto got = parser.parse(url, &error, &notes);
            ASSERT_EQ(got.has_value(), expected.has_value()) << url << ": " << error;
            EXPECT_EQ(error, expectedError) << url;
            EXPECT_EQ(notes.anonymous, expectedNotes.anonymous) << url;
            EXPECT_EQ(notes.missingSlash, expectedNotes.missingSlash) << url;
            EXPECT_EQ(notes.mailboxLooksLikeMutf7, expectedNotes.mailboxLooksLikeMutf7) << url;
            if (!expected) continue;
            EXPECT_EQ(got->user, expected->user) << url;
            EXPECT_EQ(got->auth, expected->auth) << url;
            EXPECT_EQ(got->host, expected->host) << url;
            EXPECT_EQ(got->port, expected->port) << url;
            EXPECT_EQ(got->mailbox, expected->mailbox) << url;
            EXPECT_EQ(got->uidValidity, expected->uidValidity) << url;
        }
    }
}

// The raw-octet check reads eight octets per step: every octet value at
// every position of a word and of the tail must give the answer of a check
// octet by octet, with the offset of the first forbidden octet (R5092: no
// space, control or 8-bit octet raw in a URL).
TEST(ImapUrl, EveryForbiddenRawOctetFoundAtItsOffset) {
    const std::string good = "imap://h.example.test/Mailbox";  // 29 octets: 3 words + a tail
    std::string goodError;
    ASSERT_TRUE(parseImapUrl(good, &goodError)) << goodError;
    for (size_t pos = 0; pos < good.size(); ++pos) {
        for (int v = 0; v < 256; ++v) {
            std::string url = good;
            url[pos] = static_cast<char>(v);
            std::string error;
            auto parts = parseImapUrl(url, &error);
            const bool forbidden = v <= 0x20 || v >= 0x7f;
            const std::string expected =
                "URL contains a space, control or 8-bit octet at offset " + std::to_string(pos);
            if (forbidden) {
                EXPECT_FALSE(parts) << pos << " " << v;
                EXPECT_EQ(error, expected) << pos << " " << v;
            } else {
                EXPECT_NE(error, expected) << pos << " " << v;
            }
        }
    }
    // The first of two is reported.
    std::string url = good;
    url[9] = '\x7f';
    url[25] = ' ';
    std::string error;
    EXPECT_FALSE(parseImapUrl(url, &error));
    EXPECT_EQ(error, "URL contains a space, control or 8-bit octet at offset 9");
}

}  // namespace
}  // namespace dref
