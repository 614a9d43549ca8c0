// RFC 5092 IMAP URLs: the RFC-provided vectors and the §4.5 table's worked
// and negative vectors (REQUIREMENTS.md §4.4-4.5), checked against the
// parser and the builder.
#include "imap_url.h"

#include <gtest/gtest.h>

#include <cctype>
#include <regex>
#include <string>

#include "imap_url_test_util.h"
#include "mutf7.h"

namespace dref {
namespace {

using namespace testing_url;

// ---------------------------------------------------------------------------
// RFC-provided vectors (verbatim).

TEST(ImapUrlRfc, Rfc5092MessagePartUrlIsNotAReferralTarget) {
    EXPECT_NE(parseError("imap://minbari.example.org/gray-council;UIDVALIDITY=385759045/;UID=20/"
                         ";PARTIAL=0.1024")
                  .find("message-part"),
              std::string::npos);
}

TEST(ImapUrlRfc, Rfc5092MailboxWithUidValidity_R5092_15) {
    std::string error;
    ImapUrlParseNotes notes;
    auto p = parseImapUrl("imap://minbari.example.org/gray-council;UIDVALIDITY=385759045", &error,
                          &notes);
    ASSERT_TRUE(p) << error;
    EXPECT_EQ(p->mailbox, "gray-council");
    EXPECT_EQ(p->uidValidity, 385759045u);
    EXPECT_TRUE(notes.anonymous);
    p->user = "fred";
    p->auth = "*";
    EXPECT_EQ(build(*p), "imap://fred;AUTH=*@minbari.example.org/gray-council;UIDVALIDITY=385759045");
}

TEST(ImapUrlRfc, Rfc5092Section9NonAsciiMailbox) {
    std::string error;
    ImapUrlParseNotes notes;
    auto p = parseImapUrl(
        "imap://psicorp.example.org/~peter/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E5%8F%B0%E5%8C%97", &error,
        &notes);
    ASSERT_TRUE(p) << error;
    EXPECT_TRUE(notes.anonymous);  // a referral must add the user / ;AUTH=* (R5092-4)
    EXPECT_EQ(p->host, "psicorp.example.org");
    EXPECT_EQ(utf8ToMutf7(*p->mailbox), "~peter/&ZeVnLIqe-/&U,BTFw-");
}

TEST(ImapUrlRfc, Rfc5092AuthGssapiMessageUrl) {
    parseError("imap://;AUTH=GSSAPI@minbari.example.org/gray-council/;uid=20/;section=1.2");
    std::string error;
    auto p = parseImapUrl("imap://;AUTH=GSSAPI@minbari.example.org/gray-council", &error);
    ASSERT_TRUE(p) << error;
    EXPECT_EQ(p->user, "");
    EXPECT_EQ(p->auth, "GSSAPI");
    EXPECT_EQ(build(*p), "imap://;AUTH=GSSAPI@minbari.example.org/gray-council");
}

TEST(ImapUrlRfc, Rfc5092SearchUrlsAreRefused) {
    EXPECT_NE(parseError("imap://;AUTH=*@minbari.example.org/gray%20council?SUBJECT%20shadows")
                  .find("search"),
              std::string::npos);
    parseError("imap://john;AUTH=*@minbari.example.org/babylon5/personel?charset%20UTF-8%20SUBJECT%20"
               "%7B14+%7D%0D%0A%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0");
    std::string error;
    auto p = parseImapUrl("imap://;AUTH=*@minbari.example.org/gray%20council", &error);
    ASSERT_TRUE(p) << error;
    EXPECT_EQ(p->mailbox, "gray council");  // -> SELECT "gray council"
}

TEST(ImapUrlRfc, Rfc5092DifferentUsersDifferentMailboxes) {
    auto michael = parseImapUrl("imap://michael@example.org/INBOX", nullptr);
    auto bester = parseImapUrl("imap://bester@example.org/INBOX", nullptr);
    ASSERT_TRUE(michael && bester);
    EXPECT_EQ(michael->user, "michael");
    EXPECT_EQ(bester->user, "bester");
    EXPECT_EQ(michael->mailbox, bester->mailbox);
    EXPECT_NE(build(*michael), build(*bester));
}

struct RfcReferral {
    const char* name;  // the test's name
    const char* url;
    const char* user;
    const char* auth;
    const char* mailbox;  // nullptr: server URL
};

class ImapUrlRfc2221Test : public ::testing::TestWithParam<RfcReferral> {};

// R2221-5, R2193-5, R5092-20: the RFC examples (upper-case scheme) parse and
// rebuild to the same URL, compared case-insensitively.
TEST_P(ImapUrlRfc2221Test, ParsesAndRebuilds) {
    const auto& v = GetParam();
    std::string error;
    auto p = parseImapUrl(v.url, &error);
    ASSERT_TRUE(p) << error;
    EXPECT_EQ(p->user, v.user);
    EXPECT_EQ(p->auth, v.auth);
    EXPECT_EQ(p->host, "SERVER2");
    if (v.mailbox)
        EXPECT_EQ(p->mailbox, v.mailbox);
    else
        EXPECT_FALSE(p->mailbox);
    std::string rebuilt = build(*p);
    std::string expected = v.url;
    for (auto* s : {&rebuilt, &expected})
        for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(rebuilt, expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc2221And2193, ImapUrlRfc2221Test,
    ::testing::Values(
        RfcReferral{"rfc2221_auth_star", "IMAP://user;AUTH=*@SERVER2/", "user", "*", nullptr},
        RfcReferral{"rfc2221_mike", "IMAP://MIKE@SERVER2/", "MIKE", "", nullptr},
        RfcReferral{"rfc2221_matthew", "IMAP://MATTHEW@SERVER2/", "MATTHEW", "", nullptr},
        RfcReferral{"rfc2221_auth_gssapi", "IMAP://user;AUTH=GSSAPI@SERVER2/", "user", "GSSAPI",
                    nullptr},
        RfcReferral{"rfc2193_shared_foo", "IMAP://user;AUTH=*@SERVER2/SHARED/FOO", "user", "*",
                    "SHARED/FOO"},
        RfcReferral{"rfc2193_remote", "IMAP://user;AUTH=*@SERVER2/REMOTE", "user", "*", "REMOTE"}),
    [](const auto& info) { return std::string(info.param.name); });

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
// §4.5 negative vectors: rejected or flagged by the parser, never built.

TEST(ImapUrlNegative, AnonymousIsFlaggedAndNeverBuilt_R5092_4) {
    ImapUrlParseNotes notes;
    auto p = parseImapUrl("imap://server2/", nullptr, &notes);
    ASSERT_TRUE(p);
    EXPECT_TRUE(notes.anonymous);
    EXPECT_NE(buildError(*p).find("anonymous"), std::string::npos);
}

TEST(ImapUrlNegative, EncodedStarIsNotAuthStar_R5092_6) {
    EXPECT_NE(parseError("imap://fred;AUTH=%2A@server2/").find("R5092-6"), std::string::npos);
    EXPECT_NE(parseError("imap://fred;AUTH=%2a@server2/").find("R5092-6"), std::string::npos);
}

TEST(ImapUrlNegative, UnencodedAtInUser) {
    EXPECT_NE(parseError("imap://fred@example.com@server2/").find("'@'"), std::string::npos);
}

TEST(ImapUrlNegative, EmptyHost_D17) {
    EXPECT_NE(parseError("imap://fred;AUTH=*@/").find("empty host"), std::string::npos);
    parseError("imap://fred;AUTH=*@:143/");
    parseError("imap:///");
    EXPECT_NE(buildError(server("fred", "*", "")).find("empty host"), std::string::npos);
}

TEST(ImapUrlNegative, MissingSlashIsFlaggedAndRebuiltWithSlash_D1) {
    ImapUrlParseNotes notes;
    auto p = parseImapUrl("imap://fred;AUTH=*@server2", nullptr, &notes);
    ASSERT_TRUE(p);
    EXPECT_TRUE(notes.missingSlash);
    EXPECT_EQ(build(*p), "imap://fred;AUTH=*@server2/");
}

TEST(ImapUrlNegative, Ipv6LiteralRefused_R3501_1) {
    EXPECT_NE(parseError("imap://fred;AUTH=*@[::1]/").find("IPv6"), std::string::npos);
    parseError("imap://fred;AUTH=*@[2001:db8::7]:143/INBOX");
}

TEST(ImapUrlNegative, Raw8BitRefused_R5092_10) {
    parseError("imap://fred;AUTH=*@server2/Entw\xC3\xBCrfe");
}

TEST(ImapUrlNegative, Mutf7LeftInUrlIsFlagged_R5092_10) {
    ImapUrlParseNotes notes;
    auto p = parseImapUrl("imap://fred;AUTH=*@server2/Entw&APw-rfe", nullptr, &notes);
    ASSERT_TRUE(p);
    EXPECT_TRUE(notes.mailboxLooksLikeMutf7);
    // An ordinary '&' is not flagged.
    ASSERT_TRUE(parseImapUrl("imap://fred;AUTH=*@server2/Sales%20&%20Ops", nullptr, &notes));
    EXPECT_FALSE(notes.mailboxLooksLikeMutf7);
    ASSERT_TRUE(parseImapUrl("imap://fred;AUTH=*@server2/A&B-C", nullptr, &notes));
    EXPECT_FALSE(notes.mailboxLooksLikeMutf7);  // "&B-" is not valid mUTF-7
}

TEST(ImapUrlNegative, RelativeUrlsRefused_R5092_13) {
    for (const char* rel : {"//server2/INBOX", "INBOX", "/INBOX", "../x", ";AUTH=*@server2/",
                            "fred@server2/INBOX"}) {
        EXPECT_NE(parseError(rel).find("R5092-13"), std::string::npos) << rel;
    }
    parseError("imap:fred@server2/INBOX");
    parseError("http://server2/");
    parseError("imaps://server2/");
}

}  // namespace
}  // namespace dref
