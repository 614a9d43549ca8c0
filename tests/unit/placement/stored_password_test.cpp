// plugin/core/placement/stored_password: password mode's checks of a
// directory password value, its {SCHEME} split, and what a lookup's outcome
// means for the password check.
#include "stored_password.h"

#include <gtest/gtest.h>

#include <string>

namespace dref {
namespace {

TEST(StoredPassword, UsableValues) {
    EXPECT_EQ(storedPasswordProblem("{SSHA}abc/+="), "");
    EXPECT_EQ(storedPasswordProblem("$6$salt$hash"), "");
    EXPECT_EQ(storedPasswordProblem("p\xc3\xa4ss w\xc3\xb6rd"), "");  // UTF-8 PLAIN
    EXPECT_EQ(storedPasswordProblem(std::string(kMaxStoredPasswordBytes, 'x')), "");
}

TEST(StoredPassword, HostileValuesAreRefusedWithoutQuotingThem) {
    const std::string secret = "s3cret";
    for (const std::string& v :
         {std::string(), secret + std::string(1, '\0') + "x", secret + "\r\n", secret + "\t",
          secret + "\x7f", secret + "\x01"}) {
        const std::string why = storedPasswordProblem(v);
        EXPECT_NE(why, "") << v.size();
        EXPECT_EQ(why.find(secret), std::string::npos) << why;
    }
    const std::string huge(1 << 20, 'a');
    const std::string why = storedPasswordProblem(huge);
    EXPECT_EQ(why, "1048576 octets, more than 1024");
}

TEST(StoredPassword, SchemeNames) {
    EXPECT_TRUE(isValidSchemeName("CRYPT"));
    EXPECT_TRUE(isValidSchemeName("SHA512-CRYPT"));
    EXPECT_TRUE(isValidSchemeName("ssha"));
    EXPECT_TRUE(isValidSchemeName("PBKDF2"));
    EXPECT_TRUE(isValidSchemeName("x.y_z"));
    EXPECT_FALSE(isValidSchemeName(""));
    EXPECT_FALSE(isValidSchemeName("SHA 512"));
    EXPECT_FALSE(isValidSchemeName("A}B"));
    EXPECT_FALSE(isValidSchemeName(std::string(kMaxSchemeNameBytes + 1, 'A')));
    EXPECT_TRUE(isValidSchemeName(std::string(kMaxSchemeNameBytes, 'A')));
}

TEST(StoredPassword, SplitWithScheme) {
    StoredPasswordParts p;
    std::string why;
    ASSERT_TRUE(splitStoredPassword("{ssha512}AbC=", "CRYPT", &p, &why));
    EXPECT_EQ(p.scheme, "SSHA512");
    EXPECT_EQ(p.crypted, "AbC=");
    ASSERT_TRUE(splitStoredPassword("{PLAIN}", "CRYPT", &p, &why));
    EXPECT_EQ(p.scheme, "PLAIN");
    EXPECT_EQ(p.crypted, "");
    // Only the first "}" ends the scheme.
    ASSERT_TRUE(splitStoredPassword("{PLAIN}}x{", "CRYPT", &p, &why));
    EXPECT_EQ(p.crypted, "}x{");
}

TEST(StoredPassword, SplitWithoutSchemeUsesTheDefault) {
    StoredPasswordParts p;
    std::string why;
    ASSERT_TRUE(splitStoredPassword("$6$salt$hash", "crypt", &p, &why));
    EXPECT_EQ(p.scheme, "CRYPT");
    EXPECT_EQ(p.crypted, "$6$salt$hash");
    ASSERT_TRUE(splitStoredPassword("plain}text", "PLAIN", &p, &why));
    EXPECT_EQ(p.scheme, "PLAIN");
    EXPECT_EQ(p.crypted, "plain}text");
}

TEST(StoredPassword, BrokenSchemePrefixIsRefused) {
    const std::string secret = "hunter2hunter2";
    for (const std::string& v : {"{" + secret, "{}" + secret, "{SHA 1}" + secret,
                                 "{" + std::string(kMaxSchemeNameBytes + 1, 'A') + "}" + secret}) {
        StoredPasswordParts p;
        std::string why;
        EXPECT_FALSE(splitStoredPassword(v, "CRYPT", &p, &why)) << v;
        EXPECT_NE(why, "");
        EXPECT_EQ(why.find(secret), std::string::npos) << why;
    }
}

TEST(StoredPassword, LookupActions) {
    UserRecord r;
    EXPECT_EQ(passwordLookupAction(LookupStatus::NotFound, r), PasswordLookupAction::UserUnknown);
    EXPECT_EQ(passwordLookupAction(LookupStatus::Unavailable, r), PasswordLookupAction::Unavailable);
    EXPECT_EQ(passwordLookupAction(LookupStatus::Found, r), PasswordLookupAction::Missing);
    r.passwordError = "userPassword has 2 values where one is expected";
    EXPECT_EQ(passwordLookupAction(LookupStatus::Found, r), PasswordLookupAction::Unusable);
    r.password = "{PLAIN}x";
    EXPECT_EQ(passwordLookupAction(LookupStatus::Found, r), PasswordLookupAction::Verify);
    // The directory's "not found" wins over anything a record could hold.
    EXPECT_EQ(passwordLookupAction(LookupStatus::NotFound, r), PasswordLookupAction::UserUnknown);
}

// Several entries match the login name: an internal failure whatever the
// record holds (Dovecot's ldap passdb answers so), never a check.
TEST(StoredPassword, SeveralEntriesAreAnInternalFailureNotAMismatch) {
    UserRecord r;
    r.matchingEntries = 2;
    r.homeError = "2 directory entries match the user";
    EXPECT_EQ(passwordLookupAction(LookupStatus::Found, r), PasswordLookupAction::SeveralEntries);
    r.password = "{PLAIN}x";
    r.passwordError = "x";
    EXPECT_EQ(passwordLookupAction(LookupStatus::Found, r), PasswordLookupAction::SeveralEntries);
    EXPECT_EQ(passwordLookupAction(LookupStatus::Unavailable, r), PasswordLookupAction::Unavailable);
    EXPECT_EQ(passwordLookupAction(LookupStatus::NotFound, r), PasswordLookupAction::UserUnknown);
}

TEST(StoredPassword, AskAgainOnlyOnceAndOnlyForALiveCachedAnswer) {
    EXPECT_TRUE(askDirectoryAgainAfterFailure(/*fromCache=*/true, /*stale=*/false, /*askedAgain=*/false));
    EXPECT_FALSE(askDirectoryAgainAfterFailure(false, false, false));  // the directory just answered
    EXPECT_FALSE(askDirectoryAgainAfterFailure(true, true, false));    // outage: stale answer
    EXPECT_FALSE(askDirectoryAgainAfterFailure(true, false, true));    // asked again already
}

}  // namespace
}  // namespace dref
