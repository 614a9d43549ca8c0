// ldap/directory/entry_mapping: directory entries -> validated records,
// without a server (hand-made ldap::Entry values).
#include "entry_mapping.h"
#include "referral_fields.h"
#include "remote_mailbox_cache_encoder.h"

#include <gtest/gtest.h>

namespace dref {
namespace {

ldap::Entry entry(const std::string& dn,
                  std::map<std::string, std::vector<std::string>> attributes) {
    ldap::Entry e;
    e.dn = dn;
    e.attributes = std::move(attributes);  // keys already lowercase
    return e;
}

DirectorySettings settings() {
    DirectorySettings s;
    s.homePort = 143;
    return s;
}

bool mentions(const std::vector<std::string>& warnings, const std::string& what) {
    for (const auto& w : warnings) {
        if (w.find(what) != std::string::npos) return true;
    }
    return false;
}

TEST(EntryMapping, ZeroEntriesIsNotFound) {
    UserRecord r;
    std::vector<std::string> w;
    EXPECT_EQ(mapUserEntries({}, settings(), &r, &w), UserMappingStatus::NotFound);
    EXPECT_TRUE(w.empty());
}

TEST(EntryMapping, MailHostAndPolicy_D17) {
    UserRecord r;
    std::vector<std::string> w;
    auto st = mapUserEntries({entry("uid=a", {{"mailhost", {"Home1.Example.Test"}},
                                              {"imapreferralpolicy", {"Suggest"}}})},
                             settings(), &r, &w);
    EXPECT_EQ(st, UserMappingStatus::Found);
    ASSERT_TRUE(r.home);
    EXPECT_EQ(r.home->host, "Home1.Example.Test");
    EXPECT_EQ(r.home->port, 143);
    ASSERT_TRUE(r.policy);
    EXPECT_EQ(*r.policy, ReferralPolicy::Suggest);
    EXPECT_TRUE(w.empty());
}

TEST(EntryMapping, UrlOverridesMailHostAndSuppliesUser_D18) {
    UserRecord r;
    std::vector<std::string> w;
    mapUserEntries({entry("uid=a", {{"mailhost", {"home1.example.test"}},
                                    {"imaphomeserverurl", {"imap://a%40corp@home2.example.test:993/"}}})},
                   settings(), &r, &w);
    ASSERT_TRUE(r.home);
    EXPECT_EQ(r.home->host, "home2.example.test");
    EXPECT_EQ(r.home->port, 993);
    EXPECT_EQ(r.referralUser, "a@corp");
}

TEST(EntryMapping, ReferralUserAttributeWinsOverUrlUser) {
    DirectorySettings s = settings();
    s.referralUserAttribute = "employeeNumber";
    UserRecord r;
    std::vector<std::string> w;
    mapUserEntries({entry("uid=a", {{"employeenumber", {"a.remote"}},
                                    {"imaphomeserverurl", {"imap://other@home2.example.test/"}}})},
                   s, &r, &w);
    EXPECT_EQ(r.referralUser, "a.remote");
}

TEST(EntryMapping, HostileHomeValuesAreDropped_D17) {
    const std::string hostile[] = {
        "home.example.test\r\nA1 LOGOUT", "home.example.test]", std::string("home\0x.test", 11),
        std::string(4096, 'a'), "", "imap://home.example.test/", "home.example.test:143", "[::1]",
        "h\xc3\xa9.example.test"};
    for (const auto& value : hostile) {
        SCOPED_TRACE(value.substr(0, 40));
        UserRecord r;
        std::vector<std::string> w;
        EXPECT_EQ(mapUserEntries({entry("uid=a", {{"mailhost", {value}}})}, settings(), &r, &w),
                  UserMappingStatus::Found);
        EXPECT_FALSE(r.home);
        EXPECT_FALSE(r.homeError.empty());
        ASSERT_EQ(w.size(), 1u);
        EXPECT_EQ(w[0].find_first_of(std::string("\r\n\0", 3)), std::string::npos);
        EXPECT_LT(w[0].size(), 600u);
    }
}

// Password mode (stored_password.h): the value lands in the record, a
// refused one only as a reason that never quotes it, and nothing of it in
// the warnings (they are logged).
TEST(EntryMapping, StoredPasswordWithPasswordAttribute) {
    DirectorySettings s = settings();
    s.passwordAttribute = "userPassword";
    UserRecord r;
    std::vector<std::string> w;
    ASSERT_EQ(mapUserEntries({entry("uid=a", {{"mailhost", {"h.example.test"}},
                                              {"userpassword", {"{SSHA}c2VjcmV0"}}})},
                             s, &r, &w),
              UserMappingStatus::Found);
    ASSERT_TRUE(r.password);
    EXPECT_EQ(*r.password, "{SSHA}c2VjcmV0");
    EXPECT_EQ(r.passwordError, "");
    EXPECT_TRUE(w.empty());
    ASSERT_TRUE(r.home);

    // No value: no password, no reason (the passdb logs "no password").
    r = UserRecord{};
    mapUserEntries({entry("uid=a", {{"mailhost", {"h.example.test"}}})}, s, &r, &w);
    EXPECT_FALSE(r.password);
    EXPECT_EQ(r.passwordError, "");

    // Without password_attribute the attribute is ignored (chain mode).
    r = UserRecord{};
    mapUserEntries({entry("uid=a", {{"userpassword", {"{PLAIN}x"}}})}, settings(), &r, &w);
    EXPECT_FALSE(r.password);
}

TEST(EntryMapping, HostileStoredPasswordsAreRefusedUnquoted) {
    DirectorySettings s = settings();
    s.passwordAttribute = "userPassword";
    const std::string secret = "Xyzzy-secret";
    const std::vector<std::vector<std::string>> hostile = {
        {secret + std::string(1, '\0') + "tail"}, {secret + "\r\n* OK"}, {std::string(1 << 20, 'p') + secret},
        {""}, {secret + "1", secret + "2"}};
    for (const auto& values : hostile) {
        SCOPED_TRACE(values.front().substr(0, 20));
        UserRecord r;
        std::vector<std::string> w;
        ASSERT_EQ(mapUserEntries({entry("uid=a", {{"userpassword", values}})}, s, &r, &w),
                  UserMappingStatus::Found);
        EXPECT_FALSE(r.password);
        EXPECT_NE(r.passwordError, "");
        EXPECT_EQ(r.passwordError.find(secret), std::string::npos) << r.passwordError;
        EXPECT_LT(r.passwordError.size(), 200u);
        EXPECT_TRUE(w.empty());
    }
}

TEST(EntryMapping, SeveralValuesOfSingleValuedAttributes) {
    UserRecord r;
    std::vector<std::string> w;
    mapUserEntries({entry("uid=a", {{"mailhost", {"h1.example.test", "h2.example.test"}},
                                    {"imapreferralpolicy", {"refer", "local"}}})},
                   settings(), &r, &w);
    EXPECT_FALSE(r.home);
    EXPECT_FALSE(r.policy);
    EXPECT_TRUE(mentions(w, "mailHost has 2 values"));
    EXPECT_TRUE(mentions(w, "imapReferralPolicy has 2 values"));
}

// One validation for both paths (issue 13): the record built from an entry
// and the record built from the same values as passdb fields are the same,
// for good and hostile values alike.
TEST(EntryMapping, PassdbFieldsMapExactlyAsEntries_D17) {
    DirectorySettings s = settings();
    s.referralUserAttribute = "mailUid";
    const std::string hosts[] = {"home1.example.test", "10.1.2.3", "home1\r\nA1 LOGOUT",
                                 "home]", std::string(300, 'h'), "ho\x01me", "home:143"};
    const std::string urls[] = {"", "imap://u@home2.example.test:993/", "imap://home2:0/",
                                "imap://home2:65536/", "imap://ho]me/", "imap://h\r\n/",
                                "imap://home2.example.test/INBOX"};
    const std::string policies[] = {"", "refer", "PROXY", "refer\r\n", "bogus"};
    const std::string users[] = {"", "alice", "al\nice", std::string(257, 'u'), "\xff"};
    for (const auto& host : hosts)
        for (const auto& url : urls)
            for (const auto& policy : policies)
                for (const auto& user : users) {
                    SCOPED_TRACE(host.substr(0, 20) + " | " + url.substr(0, 30) + " | " + policy +
                                 " | " + user.substr(0, 20));
                    std::map<std::string, std::vector<std::string>> attrs;
                    if (!host.empty()) attrs["mailhost"] = {host};
                    if (!url.empty()) attrs["imaphomeserverurl"] = {url};
                    if (!policy.empty()) attrs["imapreferralpolicy"] = {policy};
                    if (!user.empty()) attrs["mailuid"] = {user};
                    UserRecord fromEntry, fromFields;
                    std::vector<std::string> we, wf;
                    mapUserEntries({entry("uid=a", attrs)}, s, &fromEntry, &we);
                    ReferralFields f;
                    f.homeServer = host;
                    f.url = url;
                    f.policy = policy;
                    f.user = user;
                    recordFromReferralFields(f, s, &fromFields, &wf);
                    ASSERT_EQ(fromEntry.home.has_value(), fromFields.home.has_value());
                    if (fromEntry.home) {
                        EXPECT_EQ(fromEntry.home->host, fromFields.home->host);
                        EXPECT_EQ(fromEntry.home->port, fromFields.home->port);
                    }
                    EXPECT_EQ(fromEntry.homeError.empty(), fromFields.homeError.empty());
                    EXPECT_EQ(fromEntry.policy, fromFields.policy);
                    EXPECT_EQ(fromEntry.referralUser, fromFields.referralUser);
                    EXPECT_EQ(we.size(), wf.size());
                }
}

TEST(EntryMapping, SeveralEntriesAreAmbiguous) {
    UserRecord r;
    std::vector<std::string> w;
    auto st = mapUserEntries({entry("uid=a", {{"mailhost", {"h1.example.test"}}}),
                              entry("uid=b", {{"mailhost", {"h2.example.test"}}})},
                             settings(), &r, &w);
    EXPECT_EQ(st, UserMappingStatus::Ambiguous);
    EXPECT_FALSE(r.home);
    EXPECT_TRUE(r.dn.empty());
    EXPECT_TRUE(mentions(w, "uid=a"));
    EXPECT_EQ(r.matchingEntries, 2u);
    EXPECT_FALSE(r.moreEntriesMatch);
    EXPECT_EQ(r.homeError, "2 directory entries match the user");
    // The search stopped at its size limit: more match than it returned.
    mapUserEntries({entry("uid=a", {}), entry("uid=b", {})}, settings(), &r, &w, true);
    EXPECT_EQ(r.matchingEntries, 2u);
    EXPECT_TRUE(r.moreEntriesMatch);
    EXPECT_EQ(r.homeError, "more than 2 directory entries match the user");
    // One entry: no count.
    mapUserEntries({entry("uid=a", {{"mailhost", {"h1.example.test"}}})}, settings(), &r, &w);
    EXPECT_EQ(r.matchingEntries, 0u);
}

TEST(EntryMapping, RemoteMailboxValidation_R2193) {
    std::vector<RemoteMailbox> out;
    std::vector<std::string> w;
    mapMailboxEntries(
        {entry("m=ok", {{"imapmailboxname", {"Shared/Projects"}},
                        {"imapmailboxurl", {"imap://home2.example.test/Shared/Projects"}}}),
         entry("m=two-urls", {{"imapmailboxname", {"Shared/Two"}},
                              {"imapmailboxurl", {"imap://home2.example.test/Two", "imap://bad]host/"}}}),
         entry("m=crlf", {{"imapmailboxname", {"A\r\nB"}}, {"imapmailboxurl", {"imap://h.example.test/x"}}}),
         entry("m=c1", {{"imapmailboxname", {"A\xc2\x85" "B"}}, {"imapmailboxurl", {"imap://h.example.test/x"}}}),
         entry("m=latin1", {{"imapmailboxname", {"B\xfcro"}}, {"imapmailboxurl", {"imap://h.example.test/x"}}}),
         entry("m=long", {{"imapmailboxname", {std::string(1025, 'x')}},
                          {"imapmailboxurl", {"imap://h.example.test/x"}}}),
         entry("m=nourl", {{"imapmailboxname", {"NoUrl"}}}),
         entry("m=badurl", {{"imapmailboxname", {"BadUrl"}}, {"imapmailboxurl", {"imap://h.example.test/a\r\nb"}}}),
         entry("m=twonames", {{"imapmailboxname", {"A", "B"}}, {"imapmailboxurl", {"imap://h.example.test/x"}}})},
        true, settings(), &out, &w);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].name, "Shared/Projects");
    EXPECT_TRUE(out[0].personal);
    EXPECT_EQ(out[1].name, "Shared/Two");
    EXPECT_EQ(out[1].locations.size(), 1u);
    for (const char* dn : {"m=two-urls", "m=crlf", "m=c1", "m=latin1", "m=long", "m=nourl", "m=badurl",
                           "m=twonames"}) {
        EXPECT_TRUE(mentions(w, dn)) << dn;
    }
    for (const auto& text : w) EXPECT_EQ(text.find_first_of("\r\n"), std::string::npos) << text;
}

// The LDAP worker's consumer (issue 13 item 4) maps entry by entry as they
// arrive, and forgets everything when the search restarts on a new
// connection.
TEST(EntryMapping, EntryMapperMapsAsTheyArriveAndForgetsOnRestart_R2193) {
    std::vector<ldap::Entry> entries = {
        entry("m=ok", {{"imapmailboxname", {"Shared/Projects"}},
                       {"imapmailboxurl", {"imap://home2.example.test/Shared/Projects"}}}),
        entry("m=crlf", {{"imapmailboxname", {"A\r\nB"}}, {"imapmailboxurl", {"imap://h.example.test/x"}}}),
        entry("m=nourl", {{"imapmailboxname", {"NoUrl"}}})};
    MailboxEntryMapper mapper(false, settings());
    mapper.take(ldap::Entry(entries[0]));
    mapper.take(ldap::Entry(entries[1]));
    ASSERT_EQ(mapper.mailboxes().size(), 1u);
    ASSERT_EQ(mapper.warnings().size(), 1u);
    mapper.restart();
    EXPECT_TRUE(mapper.mailboxes().empty());
    EXPECT_TRUE(mapper.warnings().empty());
    for (const auto& e : entries) mapper.take(ldap::Entry(e));
    ASSERT_EQ(mapper.mailboxes().size(), 1u);
    EXPECT_EQ(mapper.mailboxes()[0].name, "Shared/Projects");
    EXPECT_EQ(mapper.mailboxes()[0].dn, "m=ok");
    EXPECT_FALSE(mapper.mailboxes()[0].personal);
    ASSERT_EQ(mapper.mailboxes()[0].locations.size(), 1u);
    EXPECT_EQ(mapper.mailboxes()[0].locations[0].host, "home2.example.test");
    ASSERT_EQ(mapper.warnings().size(), 2u);
    EXPECT_TRUE(mentions({mapper.warnings()[0]}, "m=crlf"));
    EXPECT_TRUE(mentions({mapper.warnings()[1]}, "m=nourl"));
}

// mapMailboxEntries is that mapper over a list: it appends, in entry order,
// and keeps what the caller's vectors held.
TEST(EntryMapping, MapMailboxEntriesAppendsTheMappersAnswer_R2193) {
    std::vector<RemoteMailbox> out(1);
    out[0].name = "kept";
    std::vector<std::string> w = {"kept warning"};
    mapMailboxEntries({entry("m=a", {{"imapmailboxname", {"A"}}, {"imapmailboxurl", {"imap://h.example.test/A"}}}),
                       entry("m=bad", {{"imapmailboxname", {"Bad"}}}),
                       entry("m=b", {{"imapmailboxname", {"B"}}, {"imapmailboxurl", {"imap://h.example.test/B"}}})},
                      true, settings(), &out, &w);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].name, "kept");
    EXPECT_EQ(out[1].name, "A");
    EXPECT_EQ(out[1].dn, "m=a");
    EXPECT_TRUE(out[1].personal);
    EXPECT_EQ(out[2].name, "B");
    ASSERT_EQ(w.size(), 2u);
    EXPECT_EQ(w[0], "kept warning");
    EXPECT_TRUE(mentions({w[1]}, "m=bad"));
}

// The referral-directory service's mapper also encodes each mailbox as it
// arrives: the lines are exactly appendMailboxCacheEntry's of the mapped
// mailbox, the warnings those of the plain mapper; an entry the mapping
// accepts but the file format cannot hold (a DN with a control octet) keeps
// encodeMailboxCache's reason instead of lines; restart forgets it all.
TEST(EntryMapping, EncodingMapperKeepsTheLinesOfEachMappedMailbox) {
    std::vector<ldap::Entry> entries = {
        entry("m=ok", {{"imapmailboxname", {"Shared/Projects"}},
                       {"imapmailboxurl", {"imap://home2.example.test/Shared/Projects",
                                           "imap://bob;AUTH=PLAIN@h2.example.test:1143/P%20q"}}}),
        entry("m=crlf", {{"imapmailboxname", {"A\r\nB"}}, {"imapmailboxurl", {"imap://h.example.test/x"}}}),
        entry("m=ctl\x01dn", {{"imapmailboxname", {"Ctl"}}, {"imapmailboxurl", {"imap://h.example.test/x"}}}),
        entry("m=second", {{"imapmailboxname", {"B\xc3\xbcro"}},
                           {"imapmailboxurl", {"imap://h.example.test/B%C3%BCro;UIDVALIDITY=7"}}})};
    MailboxEntryMapper plain(true, settings());
    MailboxEntryMapper encoding(true, settings(), true);
    encoding.take(ldap::Entry(entries[0]));
    encoding.restart();
    EXPECT_TRUE(encoding.encoded().empty());
    EXPECT_TRUE(encoding.lines().empty());
    for (const auto& e : entries) {
        plain.take(ldap::Entry(e));
        encoding.take(ldap::Entry(e));
    }
    EXPECT_TRUE(encoding.mailboxes().empty());
    EXPECT_EQ(encoding.warnings(), plain.warnings());
    ASSERT_EQ(plain.mailboxes().size(), 3u);
    ASSERT_EQ(encoding.encoded().size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        const EncodedMailbox& e = encoding.encoded()[i];
        EXPECT_EQ(e.dn, plain.mailboxes()[i].dn);
        std::string lines, error;
        const bool ok = appendMailboxCacheEntry(plain.mailboxes()[i], &lines, &error);
        EXPECT_EQ(e.error, error) << i;
        EXPECT_EQ(encoding.lines().substr(e.offset, e.length), lines) << i;
        EXPECT_EQ(ok, e.error.empty()) << i;
    }
    EXPECT_EQ(encoding.encoded()[1].error, "a DN cannot be cached");
    EXPECT_EQ(encoding.encoded()[1].length, 0u);
}

TEST(EntryMapping, HostileDnIsQuotedInEveryWarning_D17) {
    // Found by tests/fuzz (fuzz_entry_mapping, corpus/entry_mapping/regress-dn-control):
    // the user-mapping warnings carried the DN unquoted, so a DN with CR LF
    // or DEL could forge or break log lines.
    DirectorySettings s = settings();
    s.referralUserAttribute = "employeeNumber";
    const std::string dn = "uid=a\r\nauth: Info: forged\x7f";
    UserRecord r;
    std::vector<std::string> w;
    mapUserEntries({entry(dn, {{"employeenumber", {""}},
                               {"mailhost", {"bad host"}},
                               {"imaphomeserverurl", {"imap://h1.example.test/INBOX", "x"}},
                               {"imapreferralpolicy", {"bogus"}}})},
                   s, &r, &w);
    ASSERT_GE(w.size(), 4u);
    for (const auto& text : w) {
        EXPECT_EQ(text.find_first_of("\r\n\x7f"), std::string::npos) << text;
        EXPECT_NE(text.find("uid=a\\x0D\\x0Aauth"), std::string::npos) << text;
    }
}

// RFC 4515: substituted values are escaped; %% is a literal percent.
TEST(EntryMapping, UserFilterExpansionEscapesValues) {
    EXPECT_EQ(expandUserFilter("(|(uid=%u)(mail=%u))", "a*b"), "(|(uid=a\\2ab)(mail=a\\2ab))");
    EXPECT_EQ(expandUserFilter("(&(uid=%n)(dc=%d))", "bob@ex(ample).test"),
              "(&(uid=bob)(dc=ex\\28ample\\29.test))");
    EXPECT_EQ(expandUserFilter("(uid=%n)(d=%d)", "plain"), "(uid=plain)(d=)");
    EXPECT_EQ(expandUserFilter("(x=100%%)(y=%z)", "u"), "(x=100%)(y=%z)");
    EXPECT_EQ(expandUserFilter("(uid=%u)", "*)(uid=*"), "(uid=\\2a\\29\\28uid=\\2a)");
    EXPECT_EQ(expandUserFilter("(uid=%u)", std::string("a\0b", 3)), "(uid=a\\00b)");
}

}  // namespace
}  // namespace dref
