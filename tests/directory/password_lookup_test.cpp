// Password mode against the shared slapd (docs/login-referrals.md §1.6): the
// user search also reads password_attribute when the caller reads passwords
// (the auth passdb only), the value is cached with the record, refreshUser()
// asks the directory past the cache, and hostile values never reach the
// record.  The entries are added here and removed at the end.
#include <poll.h>

#include "directory_fixture.h"
#include "stored_password.h"

namespace dref::test {
namespace {

const char* const kBase = "ou=people,dc=example,dc=test";

std::string entryLdif(const std::string& uid, const std::string& passwordLine) {
    return "dn: uid=" + uid + "," + kBase + "\nobjectClass: inetOrgPerson\n"
           "objectClass: inetLocalMailRecipient\nobjectClass: imapReferralAccount\n"
           "uid: " + uid + "\ncn: " + uid + "\nsn: Password\nmailHost: home1.example.test\n" +
           passwordLine;
}

void setPassword(const std::string& uid, const std::string& value) {
    auto r = sharedSlapd().ldapTool(
        "ldapmodify", "dn: uid=" + uid + "," + kBase +
                          "\nchangetype: modify\nreplace: userPassword\nuserPassword: " + value + "\n");
    ASSERT_EQ(r.exitCode, 0) << r.err;
}

class PasswordLookup : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        const std::string huge(200000, 'h');
        const std::string ldif =
            entryLdif("pwplain", "userPassword: {PLAIN}first-secret\n") + "\n" +
            entryLdif("pwnone", "") + "\n" +
            entryLdif("pwhuge", "userPassword: " + huge + "\n") + "\n" +
            // base64 of "ab\0cd" and "ab\r\ncd"
            entryLdif("pwctrl", "userPassword:: YWIAY2Q=\nuserPassword:: YWINCmNk\n") + "\n" +
            entryLdif("pwnul", "userPassword:: YWIAY2Q=\n") + "\n" +
            // Entries that match one login name (user_filter: uid or mail).
            entryLdif("pwtwice", "userPassword: {PLAIN}twice-1\n") + "\n" +
            entryLdif("pwtwice-b", "mail: pwtwice\nuserPassword: {PLAIN}twice-2\n") + "\n" +
            entryLdif("pwthrice", "userPassword: {PLAIN}thrice-1\n") + "\n" +
            entryLdif("pwthrice-b", "mail: pwthrice\n") + "\n" +
            entryLdif("pwthrice-c", "mail: pwthrice\n");
        auto r = sharedSlapd().ldapTool("ldapadd", ldif);
        ASSERT_EQ(r.exitCode, 0) << r.err;
    }
    static void TearDownTestSuite() {
        std::string ldif;
        for (const char* uid : {"pwplain", "pwnone", "pwhuge", "pwctrl", "pwnul", "pwtwice",
                                "pwtwice-b", "pwthrice", "pwthrice-b", "pwthrice-c"})
            ldif += "dn: uid=" + std::string(uid) + "," + kBase + "\nchangetype: delete\n\n";
        sharedSlapd().ldapTool("ldapmodify", ldif);
    }

    static Settings passwordSettings() {
        Settings s = testSettings();
        s.directory.passwordAttribute = "userPassword";
        return s;
    }
    static std::unique_ptr<Directory> passwordDirectory(const Settings& s) {
        DirectoryOptions o = testOptions();
        o.readPasswords = true;
        std::string error;
        auto d = Directory::create(s, &error, o);
        EXPECT_TRUE(d) << error;
        return d;
    }
    static std::optional<UserLookupResult> refresh(Directory& d, const std::string& user) {
        std::optional<UserLookupResult> result;
        d.refreshUser(user, [&](UserLookupResult&& r) { result = std::move(r); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!result && std::chrono::steady_clock::now() < deadline) {
            pollfd p{d.eventFd(), POLLIN, 0};
            ::poll(&p, 1, 100);
            d.process();
        }
        return result;
    }
};

TEST_F(PasswordLookup, ValueReadAndCachedWithTheRecord) {
    auto d = passwordDirectory(passwordSettings());
    auto r = lookupUser(*d, "pwplain");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, DirectoryStatus::Found) << r->error;
    ASSERT_TRUE(r->record.password);
    EXPECT_EQ(*r->record.password, "{PLAIN}first-secret");
    ASSERT_TRUE(r->record.home);
    auto cached = d->cachedUser("pwplain");
    ASSERT_TRUE(cached);
    ASSERT_TRUE(cached->record.password);
    EXPECT_EQ(*cached->record.password, "{PLAIN}first-secret");

    auto none = lookupUser(*d, "pwnone");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, DirectoryStatus::Found);
    EXPECT_FALSE(none->record.password);
    EXPECT_EQ(none->record.passwordError, "");
}

// The imap plugin, the referral-directory service and the lookup tool
// create their Directory without readPasswords: the same settings file
// never makes them read a hash.
TEST_F(PasswordLookup, NotReadWithoutReadPasswords) {
    auto d = makeDirectory(passwordSettings());
    auto r = lookupUser(*d, "pwplain");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, DirectoryStatus::Found);
    EXPECT_FALSE(r->record.password);
    EXPECT_EQ(r->record.passwordError, "");
}

// A changed password: the cached record keeps the old value until
// refreshUser() asks the directory, whose answer replaces the cached one.
TEST_F(PasswordLookup, RefreshUserAsksPastTheCacheAndReplacesIt) {
    auto d = passwordDirectory(passwordSettings());
    ASSERT_TRUE(lookupUser(*d, "pwplain"));
    setPassword("pwplain", "{PLAIN}second-secret");
    auto cached = lookupUser(*d, "pwplain");
    ASSERT_TRUE(cached && cached->fromCache && cached->record.password);
    EXPECT_EQ(*cached->record.password, "{PLAIN}first-secret");
    const auto searches = d->ldapStats().searches;
    auto fresh = refresh(*d, "pwplain");
    ASSERT_TRUE(fresh);
    EXPECT_FALSE(fresh->fromCache);
    ASSERT_TRUE(fresh->record.password);
    EXPECT_EQ(*fresh->record.password, "{PLAIN}second-secret");
    EXPECT_EQ(d->ldapStats().searches, searches + 1);
    auto after = d->cachedUser("pwplain");
    ASSERT_TRUE(after && after->record.password);
    EXPECT_EQ(*after->record.password, "{PLAIN}second-secret");
    setPassword("pwplain", "{PLAIN}first-secret");
}

TEST_F(PasswordLookup, HostileValuesAreRefusedWithoutQuotingThem) {
    auto d = passwordDirectory(passwordSettings());
    for (const char* uid : {"pwhuge", "pwctrl", "pwnul"}) {
        SCOPED_TRACE(uid);
        auto r = lookupUser(*d, uid);
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, DirectoryStatus::Found) << r->error;
        EXPECT_FALSE(r->record.password);
        EXPECT_NE(r->record.passwordError, "");
        EXPECT_LT(r->record.passwordError.size(), 200u);
        EXPECT_EQ(r->record.passwordError.find("hhhh"), std::string::npos);
        EXPECT_EQ(r->record.passwordError.find("ab"), std::string::npos);
        for (const std::string& w : r->warnings) EXPECT_EQ(w.find("hhhh"), std::string::npos) << w;
        ASSERT_TRUE(r->record.home);  // the placement itself is unaffected
    }
}

// Several entries for one login name: no password and no home server in
// the record, the count for the passdb's internal failure (password mode
// answers as Dovecot's ldap passdb does); the search stops at two entries,
// so three are "more than 2".
TEST_F(PasswordLookup, SeveralEntriesGiveNoPasswordAndTheirCount) {
    auto d = passwordDirectory(passwordSettings());
    auto twice = lookupUser(*d, "pwtwice");
    ASSERT_TRUE(twice);
    ASSERT_EQ(twice->status, DirectoryStatus::Found) << twice->error;
    EXPECT_FALSE(twice->record.password);
    EXPECT_FALSE(twice->record.home);
    EXPECT_EQ(twice->record.matchingEntries, 2u);
    EXPECT_FALSE(twice->record.moreEntriesMatch);
    EXPECT_EQ(twice->record.homeError, "2 directory entries match the user");
    EXPECT_EQ(passwordLookupAction(LookupStatus::Found, twice->record),
              PasswordLookupAction::SeveralEntries);
    auto thrice = lookupUser(*d, "pwthrice");
    ASSERT_TRUE(thrice);
    ASSERT_EQ(thrice->status, DirectoryStatus::Found) << thrice->error;
    EXPECT_FALSE(thrice->record.password);
    EXPECT_EQ(thrice->record.matchingEntries, 2u);
    EXPECT_TRUE(thrice->record.moreEntriesMatch);
    EXPECT_EQ(thrice->record.homeError, "more than 2 directory entries match the user");
    for (const std::string& w : twice->warnings) EXPECT_EQ(w.find("{PLAIN}"), std::string::npos) << w;
}

}  // namespace
}  // namespace dref::test
