// User lookups against the shared slapd (testdata/directory.ldif): mapping
// of real entries, hostile values, filter injection, caching and connection
// reuse.
#include <poll.h>

#include <thread>

#include "directory_fixture.h"

namespace dref::test {
namespace {

UserLookupResult mustLookup(Directory& d, const std::string& user) {
    auto r = lookupUser(d, user);
    EXPECT_TRUE(r.has_value()) << "no answer for " << user;
    return r.value_or(UserLookupResult{});
}

// D-17: a bare mailHost becomes host + the configured home_port.
TEST(UserLookup, FoundWithMailHostAndPolicy_D17) {
    auto d = makeDirectory(testSettings());
    auto r = mustLookup(*d, "alice");
    ASSERT_EQ(r.status, DirectoryStatus::Found) << r.error;
    EXPECT_EQ(r.record.dn, "uid=alice,ou=people,dc=example,dc=test");
    ASSERT_TRUE(r.record.home);
    EXPECT_EQ(r.record.home->host, "home1.example.test");
    EXPECT_EQ(r.record.home->port, 143);
    ASSERT_TRUE(r.record.policy);
    EXPECT_EQ(*r.record.policy, ReferralPolicy::Refer);
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_FALSE(r.fromCache);
}

TEST(UserLookup, FoundByMailAttribute) {
    auto d = makeDirectory(testSettings());
    auto r = mustLookup(*d, "alice@example.test");
    ASSERT_EQ(r.status, DirectoryStatus::Found);
    EXPECT_EQ(r.record.dn, "uid=alice,ou=people,dc=example,dc=test");
}

TEST(UserLookup, HomePortFromSettings) {
    Settings s = testSettings();
    s.directory.homePort = 10143;
    auto d = makeDirectory(s);
    auto r = mustLookup(*d, "alice");
    ASSERT_TRUE(r.record.home);
    EXPECT_EQ(r.record.home->port, 10143);
}

TEST(UserLookup, NotFoundThenNegativeCacheHit) {
    auto d = makeDirectory(testSettings());
    auto first = mustLookup(*d, "nobody");
    EXPECT_EQ(first.status, DirectoryStatus::NotFound);
    EXPECT_FALSE(first.fromCache);
    const auto searches = d->ldapStats().searches;
    auto second = mustLookup(*d, "nobody");
    EXPECT_EQ(second.status, DirectoryStatus::NotFound);
    EXPECT_TRUE(second.fromCache);
    EXPECT_EQ(d->ldapStats().searches, searches);
    EXPECT_EQ(d->stats().negativeHits, 1u);
}

// imapHomeServerURL overrides mailHost and carries the port.
TEST(UserLookup, HomeServerUrlOverridesMailHost) {
    auto d = makeDirectory(testSettings());
    auto r = mustLookup(*d, "carol");
    ASSERT_EQ(r.status, DirectoryStatus::Found);
    ASSERT_TRUE(r.record.home);
    EXPECT_EQ(r.record.home->host, "home2.example.test");
    EXPECT_EQ(r.record.home->port, 1143);
    ASSERT_TRUE(r.record.policy);
    EXPECT_EQ(*r.record.policy, ReferralPolicy::Suggest);
}

TEST(UserLookup, PolicyIsCaseInsensitiveAndBadPolicyIsDropped) {
    auto d = makeDirectory(testSettings());
    auto dave = mustLookup(*d, "dave");
    ASSERT_TRUE(dave.record.policy);
    EXPECT_EQ(*dave.record.policy, ReferralPolicy::Proxy);
    auto erin = mustLookup(*d, "erin");
    ASSERT_EQ(erin.status, DirectoryStatus::Found);
    EXPECT_FALSE(erin.record.policy);
    EXPECT_TRUE(anyContains(erin.warnings, "imapReferralPolicy"));
    ASSERT_TRUE(erin.record.home);  // the rest of the entry is still used
}

// Several values of a single-valued home attribute: which one is meant is
// unknowable, so none is used (D-17: no referral from a doubtful value).
TEST(UserLookup, SeveralHomeValuesAreDropped_D17) {
    Settings s = testSettings();
    s.directory.homeServerAttribute = "carLicense";  // multi-valued in inetOrgPerson
    auto d = makeDirectory(s);
    auto r = mustLookup(*d, "multi");
    ASSERT_EQ(r.status, DirectoryStatus::Found);
    EXPECT_FALSE(r.record.home);
    EXPECT_FALSE(r.record.homeError.empty());
    EXPECT_TRUE(anyContains(r.warnings, "carLicense has 2 values"));
}

TEST(UserLookup, SeveralMatchingEntriesGiveNoHome) {
    auto d = makeDirectory(testSettings());
    auto r = mustLookup(*d, "dup@example.test");
    ASSERT_EQ(r.status, DirectoryStatus::Found);
    EXPECT_FALSE(r.record.home);
    EXPECT_TRUE(r.record.dn.empty());
    EXPECT_TRUE(anyContains(r.warnings, "2 directory entries match"));
}

// R3501-1 / D-4 / D-17: CR/LF, ']', NUL and 4 KB values never reach the record.
TEST(UserLookup, HostileMailHostValuesAreDroppedWithWarning_D17) {
    auto d = makeDirectory(testSettings());
    for (const char* user : {"hostile-crlf", "hostile-bracket", "hostile-nul", "hostile-long"}) {
        SCOPED_TRACE(user);
        auto r = mustLookup(*d, user);
        ASSERT_EQ(r.status, DirectoryStatus::Found);
        EXPECT_FALSE(r.record.home);
        EXPECT_FALSE(r.record.homeError.empty());
        ASSERT_TRUE(anyContains(r.warnings, "mailHost"));
        for (const auto& w : r.warnings) {
            EXPECT_EQ(w.find_first_of(std::string("\r\n\0", 3)), std::string::npos) << w;
            EXPECT_LT(w.size(), 1000u);
        }
        EXPECT_EQ(r.record.homeError.find_first_of(std::string("\r\n\0", 3)), std::string::npos);
    }
}

// A bad imapHomeServerURL is dropped and the valid mailHost is used instead.
TEST(UserLookup, HostileHomeUrlFallsBackToMailHost) {
    auto d = makeDirectory(testSettings());
    auto r = mustLookup(*d, "hostile-url");
    ASSERT_TRUE(r.record.home);
    EXPECT_EQ(r.record.home->host, "home1.example.test");
    EXPECT_TRUE(anyContains(r.warnings, "imapHomeServerURL"));
}

// RFC 4515: the login name is escaped, so "*)(uid=*" matches nothing.
TEST(UserLookup, FilterInjectionFindsNothing) {
    auto d = makeDirectory(testSettings());
    for (const char* user : {"*)(uid=*", "*", "alice)(uid=*", "\\2a", "alice\\"}) {
        SCOPED_TRACE(user);
        auto r = mustLookup(*d, user);
        EXPECT_EQ(r.status, DirectoryStatus::NotFound) << r.record.dn;
    }
}

TEST(UserLookup, CacheTtlExpiryQueriesAgain) {
    Settings s = testSettings();
    s.directory.cacheTtlMs = 300;
    auto d = makeDirectory(s);
    ASSERT_EQ(mustLookup(*d, "alice").status, DirectoryStatus::Found);
    const auto afterFirst = d->ldapStats().searches;
    auto cached = mustLookup(*d, "alice");
    EXPECT_TRUE(cached.fromCache);
    EXPECT_EQ(d->ldapStats().searches, afterFirst);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto fresh = mustLookup(*d, "alice");
    EXPECT_FALSE(fresh.fromCache);
    EXPECT_EQ(fresh.status, DirectoryStatus::Found);
    EXPECT_EQ(d->ldapStats().searches, afterFirst + 1);
}

TEST(UserLookup, CacheSizeBoundEvictsLeastRecentlyUsed) {
    Settings s = testSettings();
    s.directory.cacheSize = 2;
    auto d = makeDirectory(s);
    mustLookup(*d, "alice");
    mustLookup(*d, "carol");
    mustLookup(*d, "alice");  // alice is now the most recently used
    mustLookup(*d, "dave");   // evicts carol
    EXPECT_EQ(d->stats().cacheEntries, 2u);
    EXPECT_TRUE(mustLookup(*d, "alice").fromCache);
    EXPECT_FALSE(mustLookup(*d, "carol").fromCache);
}

// Connection reuse: one connect and one bind, then only searches.
TEST(UserLookup, NoBindPerLookupInSteadyState) {
    Settings s = testSettings();
    s.directory.cacheTtlMs = 0;  // every lookup goes to the server
    s.directory.negativeCacheTtlMs = 0;
    auto d = makeDirectory(s);
    ASSERT_EQ(mustLookup(*d, "alice").status, DirectoryStatus::Found);
    const auto first = d->ldapStats();
    EXPECT_EQ(first.connects, 1u);
    EXPECT_EQ(first.binds, 1u);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(mustLookup(*d, "alice").status, DirectoryStatus::Found);
    const auto later = d->ldapStats();
    EXPECT_EQ(later.connects, 1u);
    EXPECT_EQ(later.binds, 1u);
    EXPECT_EQ(later.searches, first.searches + 20);
}

// Pipelining: many lookups in flight at once on the one connection.
TEST(UserLookup, ManyConcurrentLookups) {
    Settings s = testSettings();
    s.directory.cacheTtlMs = 0;
    auto d = makeDirectory(s);
    int found = 0;
    const int n = 200;
    for (int i = 0; i < n; ++i) {
        d->lookupUser(i % 2 ? "alice" : "carol", [&](UserLookupResult&& r) {
            if (r.status == DirectoryStatus::Found) ++found;
        });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (found < n && std::chrono::steady_clock::now() < deadline) {
        pollfd p{d->eventFd(), POLLIN, 0};
        poll(&p, 1, 50);
        d->process();
    }
    EXPECT_EQ(found, n);
    EXPECT_EQ(d->ldapStats().connects, 1u);
}

// Cache hits are delivered from process(), never inside lookupUser().
TEST(UserLookup, CacheHitIsNotDeliveredInsideTheCall) {
    auto d = makeDirectory(testSettings());
    bool inside = true;
    ASSERT_TRUE(lookupUser(*d, "alice", 10000, &inside));
    EXPECT_FALSE(inside);
    auto r = lookupUser(*d, "alice", 10000, &inside);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->fromCache);
    EXPECT_FALSE(inside);
}

// cachedUser(): the live cache entry itself on the spot (the passdb
// driver's warm login; no copy of the record), nothing before the first
// answer and nothing after the TTL; never a search of its own.
TEST(UserLookup, CachedUserAnswersOnlyFromTheLiveCache) {
    Settings s = testSettings();
    s.directory.cacheTtlMs = 300;
    auto d = makeDirectory(s);
    EXPECT_EQ(d->cachedUser("alice"), nullptr);
    EXPECT_EQ(d->ldapStats().searches, 0u);
    ASSERT_EQ(mustLookup(*d, "alice").status, DirectoryStatus::Found);
    const auto searches = d->ldapStats().searches;
    const auto hits = d->stats().cacheHits;
    const UserLookupResult* cached = d->cachedUser("alice");
    ASSERT_NE(cached, nullptr);
    EXPECT_EQ(d->cachedUser("alice"), cached);  // the entry, not a copy
    EXPECT_TRUE(cached->fromCache);
    EXPECT_EQ(cached->elapsedUs, 0);
    EXPECT_EQ(cached->status, DirectoryStatus::Found);
    ASSERT_TRUE(cached->record.home);
    EXPECT_EQ(cached->record.home->host, "home1.example.test");
    EXPECT_EQ(d->stats().cacheHits, hits + 2);
    EXPECT_EQ(mustLookup(*d, "nobody").status, DirectoryStatus::NotFound);
    const UserLookupResult* negative = d->cachedUser("nobody");
    ASSERT_NE(negative, nullptr);
    EXPECT_EQ(negative->status, DirectoryStatus::NotFound);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_EQ(d->cachedUser("alice"), nullptr);
    EXPECT_EQ(d->ldapStats().searches, searches + 1);  // only nobody's
}

TEST(UserLookup, CancelledLookupNeverCallsBack) {
    auto d = makeDirectory(testSettings());
    bool called = false;
    const uint64_t id = d->lookupUser("alice", [&](UserLookupResult&&) { called = true; });
    d->cancel(id);
    // A second lookup proves the loop ran long enough for the first answer.
    ASSERT_TRUE(lookupUser(*d, "carol"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    d->process();
    EXPECT_FALSE(called);
}

// SASL EXTERNAL over ldapi (root peer credentials are the config's manager).
TEST(UserLookup, SaslExternalOverLdapi) {
    Settings s = testSettings({sharedSlapd().ldapiUri()});
    s.directory.bindDn.clear();
    s.directory.bindPassword.clear();
    s.directory.saslMech = "EXTERNAL";
    auto d = makeDirectory(s);
    auto r = mustLookup(*d, "alice");
    EXPECT_EQ(r.status, DirectoryStatus::Found) << r.error;
    EXPECT_EQ(d->ldapStats().binds, 1u);
}

TEST(UserLookup, WrongBindPasswordIsUnavailable) {
    Settings s = testSettings();
    s.directory.bindPassword = "wrong";
    auto d = makeDirectory(s);
    auto r = mustLookup(*d, "alice");
    EXPECT_EQ(r.status, DirectoryStatus::Unavailable);
    EXPECT_NE(r.error.find("Invalid credentials"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("wrong"), std::string::npos) << "password leaked into the error";
}

}  // namespace
}  // namespace dref::test
