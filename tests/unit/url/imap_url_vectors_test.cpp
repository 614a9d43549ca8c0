// RFC 5092 IMAP URLs: the RFC-provided vectors and the §4.5 negative vectors
// (REQUIREMENTS.md §4.5), checked against the parser and the builder.
#include "imap_url.h"

#include <gtest/gtest.h>

#include <cctype>
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
