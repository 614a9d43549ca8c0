// The directory cache's form of a user's answer (ldap/directory/
// user_answer_blob.h): every field survives the round trip, a decode into a
// used answer leaves nothing of the old one, and anything but a whole blob
// is refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory_resource>
#include <string>

#include "user_answer_blob.h"

namespace dref {
namespace {

UserLookupResult everyFieldSet() {
    UserLookupResult a;
    a.status = DirectoryStatus::Found;
    a.error = "an error";
    a.warnings = {"first warning", std::string(300, 'w')};
    a.fromCache = false;
    a.stale = true;
    a.elapsedUs = 77;
    UserRecord& r = a.record;
    r.dn = "uid=someone.with.a.long.name,ou=people,dc=example,dc=org";
    r.home = HomeServer{"imap-home-server-17.example.org", 10143};
    r.homeError = "home error";
    r.policy = ReferralPolicy::ProxySuggest;
    r.referralUser = "someone@home.example.org";
    r.password = "{SSHA512}c2VjcmV0IGhhc2g=";
    r.passwordError = "password error";
    r.matchingEntries = 2;
    r.moreEntriesMatch = true;
    return a;
}

std::pmr::string encoded(const UserLookupResult& a) {
    std::pmr::string blob;
    encodeUserAnswer(a, &blob);
    return blob;
}

void expectSameUser(const UserLookupResult& got, const UserLookupResult& want) {
    EXPECT_EQ(got.status, want.status);
    EXPECT_EQ(got.error, want.error);
    EXPECT_EQ(got.warnings, want.warnings);
    EXPECT_EQ(got.record.dn, want.record.dn);
    ASSERT_EQ(got.record.home.has_value(), want.record.home.has_value());
    if (want.record.home) {
        EXPECT_EQ(got.record.home->host, want.record.home->host);
        EXPECT_EQ(got.record.home->port, want.record.home->port);
    }
    EXPECT_EQ(got.record.homeError, want.record.homeError);
    EXPECT_EQ(got.record.policy, want.record.policy);
    EXPECT_EQ(got.record.referralUser, want.record.referralUser);
    EXPECT_EQ(got.record.password, want.record.password);
    EXPECT_EQ(got.record.passwordError, want.record.passwordError);
    EXPECT_EQ(got.record.matchingEntries, want.record.matchingEntries);
    EXPECT_EQ(got.record.moreEntriesMatch, want.record.moreEntriesMatch);
}

TEST(UserAnswerBlob, EveryFieldSurvivesAndTheAnswerReadsAsCached) {
    const UserLookupResult want = everyFieldSet();
    UserLookupResult got;
    ASSERT_TRUE(decodeUserAnswer(encoded(want), &got));
    expectSameUser(got, want);
    EXPECT_TRUE(got.fromCache);
    EXPECT_FALSE(got.stale);
    EXPECT_EQ(got.elapsedUs, 0);
}

TEST(UserAnswerBlob, EveryPolicySurvives) {
    for (ReferralPolicy p : {ReferralPolicy::Refer, ReferralPolicy::Suggest, ReferralPolicy::Proxy,
                             ReferralPolicy::ProxySuggest, ReferralPolicy::Local}) {
        UserLookupResult want = everyFieldSet();
        want.record.policy = p;
        UserLookupResult got;
        ASSERT_TRUE(decodeUserAnswer(encoded(want), &got));
        EXPECT_EQ(got.record.policy, p);
    }
}

TEST(UserAnswerBlob, ADecodeIntoAUsedAnswerLeavesNothingOfTheOldOne) {
    UserLookupResult want;  // NotFound, every field empty or absent
    want.status = DirectoryStatus::NotFound;
    UserLookupResult got = everyFieldSet();
    ASSERT_TRUE(decodeUserAnswer(encoded(want), &got));
    expectSameUser(got, want);
    EXPECT_FALSE(got.record.home.has_value());
    EXPECT_FALSE(got.record.policy.has_value());
    EXPECT_FALSE(got.record.password.has_value());
    EXPECT_TRUE(got.warnings.empty());
}

TEST(UserAnswerBlob, AnUnavailableAnswerKeepsItsError) {
    UserLookupResult want;
    want.status = DirectoryStatus::Unavailable;
    want.error = "timeout";
    UserLookupResult got;
    ASSERT_TRUE(decodeUserAnswer(encoded(want), &got));
    EXPECT_EQ(got.status, DirectoryStatus::Unavailable);
    EXPECT_EQ(got.error, "timeout");
}

TEST(UserAnswerBlob, EveryShorterOrLongerBlobIsRefused) {
    const std::pmr::string blob = encoded(everyFieldSet());
    UserLookupResult got;
    for (size_t n = 0; n < blob.size(); ++n)
        EXPECT_FALSE(decodeUserAnswer(std::string_view(blob).substr(0, n), &got)) << n;
    EXPECT_FALSE(decodeUserAnswer(std::string(blob) + '\0', &got));
}

TEST(UserAnswerBlob, AnUnknownFormatStatusFlagOrPolicyIsRefused) {
    const std::pmr::string blob = encoded(everyFieldSet());
    UserLookupResult got;
    const struct {
        size_t offset;
        char value;
    } bad[] = {{0, 2}, {0, 0}, {1, 3}, {2, 16}, {3, 5}};
    for (const auto& b : bad) {
        std::string changed(blob);
        changed[b.offset] = b.value;
        EXPECT_FALSE(decodeUserAnswer(changed, &got)) << b.offset << " " << int(b.value);
    }
}

TEST(UserAnswerBlob, AWarningCountBeyondTheBlobIsRefusedBeforeAnyAllocation) {
    UserLookupResult none;
    std::string blob(encoded(none));
    const uint32_t huge = 0x7fffffff;  // the count is the blob's last four octets
    blob.replace(blob.size() - sizeof(huge), sizeof(huge), reinterpret_cast<const char*>(&huge),
                 sizeof(huge));
    UserLookupResult got;
    EXPECT_FALSE(decodeUserAnswer(blob, &got));
    EXPECT_TRUE(got.warnings.empty());
}

}  // namespace
}  // namespace dref
