// RFC 5092 IMAP URLs in REFERRAL codes: REQUIREMENTS.md §4.1-4.5 (the §4.5
// table, the builder, the parser and the encoders).
#include "imap_url.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "imap_url_test_util.h"
#include "mutf7.h"

namespace dref {
namespace {

using namespace testing_url;

// ---------------------------------------------------------------------------
// §4.5 worked vectors: build == canonical, parse(canonical) == input parts,
// build(parse(canonical)) == canonical.
struct Vector {
    const char* name;
    ImapUrlParts parts;
    const char* canonical;
};

ImapUrlParts withPort(ImapUrlParts p, uint16_t port) {
    p.port = port;
    return p;
}

const Vector kVectors[] = {
    {"user_at_sign_R5092_8", server("fred@example.com"),
     "imap://fred%40example.com;AUTH=*@server2.example.org/"},
    {"user_semicolon_R5092_8", server("a;b"), "imap://a%3Bb;AUTH=*@server2.example.org/"},
    {"user_slash", server("a/b"), "imap://a%2Fb;AUTH=*@server2.example.org/"},
    {"user_colon", server("a:b"), "imap://a%3Ab;AUTH=*@server2.example.org/"},
    {"user_space_R5092_8", server("a b"), "imap://a%20b;AUTH=*@server2.example.org/"},
    {"user_subdelims_kept", server("o'neil+tag"), "imap://o'neil+tag;AUTH=*@server2.example.org/"},
    {"user_utf8_R5092_11", server("j\xC3\xBCrgen"), "imap://j%C3%BCrgen;AUTH=*@server2.example.org/"},
    {"auth_gssapi_R5092_5", server("fred", "GSSAPI"), "imap://fred;AUTH=GSSAPI@server2.example.org/"},
    {"auth_scram", server("fred", "SCRAM-SHA-256"),
     "imap://fred;AUTH=SCRAM-SHA-256@server2.example.org/"},
    {"user_without_auth_R5092_7", server("MIKE", "", "SERVER2"), "imap://MIKE@SERVER2/"},
    {"greeting_no_user_D2", server(""), "imap://;AUTH=*@server2.example.org/"},
    {"mailbox_inbox", mailbox("INBOX", ""), "imap://;AUTH=*@server2.example.org/INBOX"},
    {"mailbox_umlaut_R5092_10", mailbox("Entw\xC3\xBCrfe"),
     "imap://fred;AUTH=*@server2.example.org/Entw%C3%BCrfe"},
    {"mailbox_space_slash_R5092_14", mailbox("a b/c"),
     "imap://fred;AUTH=*@server2.example.org/a%20b/c"},
    {"mailbox_ampersand_bchar", mailbox("Shared/Sales & Ops"),
     "imap://fred;AUTH=*@server2.example.org/Shared/Sales%20&%20Ops"},
    {"mailbox_percent_question_R5092_9", mailbox("100% done?"),
     "imap://fred;AUTH=*@server2.example.org/100%25%20done%3F"},
    {"mailbox_brackets_R3501_1", mailbox("[Gmail]/Sent Mail"),
     "imap://fred;AUTH=*@server2.example.org/%5BGmail%5D/Sent%20Mail"},
    {"mailbox_semicolon_hash", mailbox("a;b#c"), "imap://fred;AUTH=*@server2.example.org/a%3Bb%23c"},
    {"mailbox_leading_slash_R5092_12", mailbox("/leading"),
     "imap://fred;AUTH=*@server2.example.org/%2Fleading"},
    {"mailbox_dot_segments_R5092_12", mailbox("../up/./x"),
     "imap://fred;AUTH=*@server2.example.org/%2E%2E/up/%2E/x"},
    {"mailbox_quote_backslash", mailbox("q\"uote\\back"),
     "imap://fred;AUTH=*@server2.example.org/q%22uote%5Cback"},
    {"mailbox_cjk_rfc5092_s9", mailbox("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E/\xE5\x8F\xB0\xE5\x8C\x97"),
     "imap://fred;AUTH=*@server2.example.org/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E5%8F%B0%E5%8C%97"},
    {"mailbox_astral_4byte", mailbox("\xF0\x9F\x98\x80"),
     "imap://fred;AUTH=*@server2.example.org/%F0%9F%98%80"},
    {"host_ipv4", server("fred", "*", "192.0.2.7"), "imap://fred;AUTH=*@192.0.2.7/"},
    {"port_10143", withPort(server("fred"), 10143), "imap://fred;AUTH=*@server2.example.org:10143/"},
    {"port_143_omitted_R5092_1", withPort(server("fred"), 143), "imap://fred;AUTH=*@server2.example.org/"},
};

class ImapUrlVectorTest : public ::testing::TestWithParam<Vector> {};

TEST_P(ImapUrlVectorTest, BuildsCanonicalForm_D12) {
    EXPECT_EQ(build(GetParam().parts), GetParam().canonical);
}

TEST_P(ImapUrlVectorTest, ParsesBackToSameParts) {
    std::string error;
    ImapUrlParseNotes notes;
    auto parsed = parseImapUrl(GetParam().canonical, &error, &notes);
    ASSERT_TRUE(parsed.has_value()) << error;
    expectSameParts(*parsed, GetParam().parts);
    EXPECT_FALSE(notes.anonymous);
    EXPECT_FALSE(notes.missingSlash);
    EXPECT_FALSE(notes.mailboxLooksLikeMutf7);
    EXPECT_EQ(build(*parsed), GetParam().canonical);
}

// R3501-4, D-12, D-1, R3501-1: 7-bit, uppercase hex, "/" after authority, no "]".
TEST_P(ImapUrlVectorTest, WireShape) {
    const std::string url = GetParam().canonical;
    for (unsigned char c : url) {
        EXPECT_TRUE(c > 0x20 && c < 0x7f) << url;
        EXPECT_NE(c, ']');
    }
    EXPECT_FALSE(std::regex_search(url, std::regex("%[0-9A-F]?[a-f]"))) << url;
    EXPECT_NE(url.find('/', 7), std::string::npos);
    EXPECT_EQ(url.find("%2A"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Section45, ImapUrlVectorTest, ::testing::ValuesIn(kVectors),
                         [](const auto& info) { return std::string(info.param.name); });

// Wire names of the §4.5 table go through mUTF-7 first (§4.4).
TEST(ImapUrl, WireMailboxToUrl_Section44) {
    const std::pair<const char*, const char*> cases[] = {
        {"Entw&APw-rfe", "imap://fred;AUTH=*@server2.example.org/Entw%C3%BCrfe"},
        {"Shared/Sales &- Ops", "imap://fred;AUTH=*@server2.example.org/Shared/Sales%20&%20Ops"},
        {"&ZeVnLIqe-/&U,BTFw-",
         "imap://fred;AUTH=*@server2.example.org/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E5%8F%B0%E5%8C%97"},
        {"&2D3eAA-", "imap://fred;AUTH=*@server2.example.org/%F0%9F%98%80"},
    };
    for (const auto& [wire, url] : cases) {
        auto utf8 = mutf7ToUtf8(wire);
        ASSERT_TRUE(utf8.has_value()) << wire;
        EXPECT_EQ(build(mailbox(*utf8)), url);
    }
}

TEST(ImapUrl, Ipv6HostNotSendable_D4) {
    EXPECT_NE(buildError(server("fred", "*", "2001:db8::7")).find("host"), std::string::npos);
    buildError(server("fred", "*", "[2001:db8::7]"));
    buildError(server("fred", "*", "::1"));
}

// ---------------------------------------------------------------------------
// Parser details.

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

// ---------------------------------------------------------------------------
// Builder details.

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
// Encoders and host validation.

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
