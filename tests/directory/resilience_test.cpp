// The directory under failure, with slapd instances of their own that the
// tests stop, kill and SIGSTOP: answers come within the configured time
// (Unavailable, never a hang), and the same Directory object recovers when
// the server is back (no re-creation, reconnect with backoff, failover).
#include <poll.h>

#include <cstdlib>
#include <thread>

#include "directory_fixture.h"

namespace dref::test {
namespace {

const std::string kLdif = std::string(DREF_DIRECTORY_TESTDATA) + "/directory.ldif";
// Two clocks: the answer's elapsedUs (request -> answer ready in the LDAP
// worker) must respect the configured bounds closely; the caller's wall
// clock, which also counts the test loop and a loaded build machine (the
// slapd helper is a Python process), only proves nothing hangs.
constexpr int64_t kMarginMs = 300;
constexpr int64_t kNoHangMs = 4000;

int64_t readyMs(const UserLookupResult& r) { return r.elapsedUs / 1000; }

// One server for the suite, which the tests pause, kill and stop; every
// test starts with it running and answering (restarts reuse the port and
// the data, which is much cheaper than a new bootstrap).
class Resilience : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        slapd_ = new SlapdProcess(runDir("disrupted"), kDisruptAddr);
        if (!slapd_->start({kLdif}, 0, &startError_)) startError_ += " (first start)";
    }
    static void TearDownTestSuite() {
        delete slapd_;
        slapd_ = nullptr;
    }
    void SetUp() override { restore(); }
    void TearDown() override { restore(); }

    void restore() {
        ASSERT_TRUE(startError_.empty()) << startError_;
        if (slapd_->paused()) slapd_->resume();
        if (!slapd_->running()) {
            std::string error;
            ASSERT_TRUE(slapd_->start({}, slapd_->port(), &error)) << error;
        }
    }

    static SlapdProcess* slapd_;
    static std::string startError_;
};

SlapdProcess* Resilience::slapd_ = nullptr;
std::string Resilience::startError_;

Settings uncached(const std::vector<std::string>& uris) {
    Settings s = testSettings(uris);
    s.directory.cacheTtlMs = 0;
    s.directory.negativeCacheTtlMs = 0;
    return s;
}

// A server that stops answering in the middle of a search, then dies: the
// pending lookup ends within ldap_timeout, later ones report Unavailable,
// and after the restart the same Directory finds users again.
TEST_F(Resilience, SlapdKilledMidSearchThenRestarted) {
    SlapdProcess& slapd = *slapd_;
    std::string error;
    Settings s = uncached({slapd.uri()});
    auto d = makeDirectory(s);
    ASSERT_EQ(lookupUser(*d, "alice")->status, DirectoryStatus::Found);

    slapd.pause();
    std::optional<UserLookupResult> pending;
    const auto t0 = std::chrono::steady_clock::now();
    d->lookupUser("alice", [&](UserLookupResult&& r) { pending = std::move(r); });
    // Let the search reach the stopped server, then kill it.
    for (int i = 0; i < 4; ++i) {
        pollfd p{d->eventFd(), POLLIN, 0};
        poll(&p, 1, 50);
        d->process();
    }
    // Kill from another thread: the event loop keeps running meanwhile, as
    // it would in Dovecot (the helper takes a while on a loaded machine).
    std::thread killer([&slapd] { slapd.kill(); });
    while (!pending && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) {
        pollfd p{d->eventFd(), POLLIN, 0};
        poll(&p, 1, 50);
        d->process();
    }
    killer.join();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(pending);
    EXPECT_EQ(pending->status, DirectoryStatus::Unavailable);
    EXPECT_LE(readyMs(*pending), s.directory.timeoutMs + kMarginMs);
    EXPECT_LE(ms, s.directory.timeoutMs + kNoHangMs);

    Timed t;
    auto down = lookupUser(*d, "alice", 10000, nullptr, &t);
    ASSERT_TRUE(down);
    EXPECT_EQ(down->status, DirectoryStatus::Unavailable);
    EXPECT_FALSE(down->error.empty());
    EXPECT_LE(readyMs(*down), s.directory.timeoutMs + kMarginMs);
    EXPECT_LE(t.ms, s.directory.timeoutMs + kNoHangMs);

    ASSERT_TRUE(slapd.start({}, slapd.port(), &error)) << error;
    auto back = lookupUntilFound(*d, "alice", 5000);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->status, DirectoryStatus::Found) << back->error;
    EXPECT_GE(d->ldapStats().connects, 2u);
}

// Answers that expire within a test (both kinds live ttlMs), ldap_timeout
// timeoutMs.
Settings shortTtl(const std::string& uri, int ttlMs, int timeoutMs) {
    Settings s = testSettings({uri});
    s.directory.cacheTtlMs = ttlMs;
    s.directory.negativeCacheTtlMs = ttlMs;
    s.directory.timeoutMs = timeoutMs;
    return s;
}

// The directory down after the cache TTL: a user seen before gets the last
// answer with a warning (as Dovecot's auth cache falls back to expired
// data), a not-found answer too; a user never seen gets Unavailable; a
// remote mailbox lookup does not fall back (its searches need the directory
// as well); once the server is back the answers are fresh again.
TEST_F(Resilience, ExpiredAnswerServesWhileTheDirectoryIsDown) {
    auto d = makeDirectory(shortTtl(slapd_->uri(), 200, 1000));
    auto first = lookupUser(*d, "alice");
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, DirectoryStatus::Found) << first->error;
    EXPECT_FALSE(first->stale);
    auto absent = lookupUser(*d, "nobody-at-all");
    ASSERT_TRUE(absent);
    ASSERT_EQ(absent->status, DirectoryStatus::NotFound) << absent->error;

    slapd_->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1400));  // past the TTL by > 1 s
    auto stale = lookupUser(*d, "alice", 10000);
    ASSERT_TRUE(stale);
    EXPECT_EQ(stale->status, DirectoryStatus::Found) << stale->error;
    EXPECT_TRUE(stale->fromCache);
    EXPECT_TRUE(stale->stale);
    ASSERT_TRUE(stale->record.home);
    EXPECT_EQ(stale->record.home->host, first->record.home->host);
    ASSERT_FALSE(stale->warnings.empty());
    EXPECT_NE(stale->warnings.back().find("directory unavailable (unavailable: "), std::string::npos)
        << stale->warnings.back();
    // How far past the TTL, in whole seconds: at least the 1.2 s slept.
    const std::string& warning = stale->warnings.back();
    const size_t at = warning.find("using the last answer, ");
    ASSERT_NE(at, std::string::npos) << warning;
    const std::string age = warning.substr(at + 23);
    EXPECT_GE(std::atoi(age.c_str()), 1) << warning;
    EXPECT_NE(age.find(" s past its cache TTL"), std::string::npos) << warning;
    // A warm login's path (cachedUser) never gives an expired answer.
    EXPECT_FALSE(d->cachedUser("alice"));
    auto staleAbsent = lookupUser(*d, "nobody-at-all", 10000);
    ASSERT_TRUE(staleAbsent);
    EXPECT_EQ(staleAbsent->status, DirectoryStatus::NotFound);
    EXPECT_TRUE(staleAbsent->stale);
    EXPECT_EQ(d->stats().staleHits, 2u);
    auto unseen = lookupUser(*d, "carol", 10000);
    ASSERT_TRUE(unseen);
    EXPECT_EQ(unseen->status, DirectoryStatus::Unavailable);
    EXPECT_FALSE(unseen->stale);
    auto mailboxes = lookupMailboxes(*d, "alice", 10000);
    ASSERT_TRUE(mailboxes);
    EXPECT_EQ(mailboxes->status, DirectoryStatus::Unavailable);
    EXPECT_EQ(d->stats().staleHits, 2u);

    std::string error;
    ASSERT_TRUE(slapd_->start({}, slapd_->port(), &error)) << error;
    auto back = lookupUntilFound(*d, "carol", 5000);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->status, DirectoryStatus::Found) << back->error;
    auto fresh = lookupUser(*d, "alice");
    ASSERT_TRUE(fresh);
    EXPECT_FALSE(fresh->fromCache);
    EXPECT_FALSE(fresh->stale);
    EXPECT_TRUE(fresh->warnings.empty());
}

// A hung server (SIGSTOP): the fallback comes after ldap_timeout, not
// before (the directory is asked first, every time).
TEST_F(Resilience, ExpiredAnswerAfterTheTimeoutOfAHungServer) {
    auto d = makeDirectory(shortTtl(slapd_->uri(), 100, 700));
    auto first = lookupUser(*d, "alice");
    ASSERT_TRUE(first && first->status == DirectoryStatus::Found);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    slapd_->pause();
    auto stale = lookupUser(*d, "alice", 10000);
    slapd_->resume();
    ASSERT_TRUE(stale);
    EXPECT_EQ(stale->status, DirectoryStatus::Found) << stale->error;
    EXPECT_TRUE(stale->stale);
    EXPECT_GE(readyMs(*stale), 700 - kMarginMs);
    EXPECT_LE(readyMs(*stale), 700 + kMarginMs);
    ASSERT_FALSE(stale->warnings.empty());
    EXPECT_NE(stale->warnings.back().find("directory unavailable (timeout: "), std::string::npos)
        << stale->warnings.back();
}

// No server at start: Unavailable (not cached), then it comes up and the
// same Directory works after at most one backoff interval.
TEST_F(Resilience, DownAtStartThenComesUp) {
    slapd_->stop();
    const std::string uri = slapd_->uri();
    Settings s = testSettings({uri});
    auto d = makeDirectory(s);
    Timed t;
    auto r = lookupUser(*d, "alice", 10000, nullptr, &t);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, DirectoryStatus::Unavailable);
    EXPECT_NE(r->error.find(uri), std::string::npos) << r->error;
    EXPECT_LE(readyMs(*r), s.directory.timeoutMs + kMarginMs);
    EXPECT_LE(t.ms, s.directory.timeoutMs + kNoHangMs);
    EXPECT_EQ(d->stats().cacheEntries, 0u);  // Unavailable is never cached

    std::string error;
    ASSERT_TRUE(slapd_->start({}, slapd_->port(), &error)) << error;
    auto back = lookupUntilFound(*d, "alice", 5000);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->status, DirectoryStatus::Found) << back->error;
}

// Two URIs, the first refusing connections: the second answers.
TEST_F(Resilience, FailoverToSecondUri) {
    const int port = unusedPort(kDisruptAddr);
    const std::string dead = "ldap://" + std::string(kDisruptAddr) + ":" + std::to_string(port) + "/";
    auto d = makeDirectory(uncached({dead, sharedSlapd().uri()}));
    auto r = lookupUser(*d, "alice");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, DirectoryStatus::Found) << r->error;
    const auto st = d->ldapStats();
    EXPECT_GE(st.failovers, 1u);
    EXPECT_EQ(st.connects, 1u);
}

// A stopped (SIGSTOP) server accepts TCP connections but never answers:
// the lookup times out within ldap_timeout, the connection is dropped, and
// with a second URI the next lookup fails over to it.
TEST_F(Resilience, StoppedServerTimesOutThenFailsOver) {
    SlapdProcess& slapd = *slapd_;
    Settings s = uncached({slapd.uri(), sharedSlapd().uri()});
    auto d = makeDirectory(s);
    ASSERT_EQ(lookupUser(*d, "alice")->status, DirectoryStatus::Found);
    ASSERT_EQ(d->ldapStats().connects, 1u);

    slapd.pause();
    Timed t;
    auto r = lookupUser(*d, "alice", 10000, nullptr, &t);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, DirectoryStatus::Unavailable);
    EXPECT_NE(r->error.find("timeout"), std::string::npos) << r->error;
    EXPECT_GE(readyMs(*r), s.directory.timeoutMs - 5);
    EXPECT_LE(readyMs(*r), s.directory.timeoutMs + kMarginMs);
    EXPECT_LE(t.ms, s.directory.timeoutMs + kNoHangMs);
    EXPECT_EQ(d->ldapStats().timeouts, 1u);

    auto next = lookupUser(*d, "alice");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, DirectoryStatus::Found) << next->error;
    EXPECT_GE(d->ldapStats().failovers, 1u);
    slapd.resume();
}

// A server stopped before the first connection: the bind hangs, bounded by
// ldap_connect_timeout, and the lookup still ends within its own timeout
// plus that bound.
TEST_F(Resilience, StoppedServerAtConnectIsBounded) {
    SlapdProcess& slapd = *slapd_;
    slapd.pause();
    Settings s = uncached({slapd.uri()});
    auto d = makeDirectory(s);
    Timed t;
    auto r = lookupUser(*d, "alice", 10000, nullptr, &t);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, DirectoryStatus::Unavailable);
    EXPECT_LE(readyMs(*r), s.directory.timeoutMs + s.directory.connectTimeoutMs + kMarginMs);
    EXPECT_LE(t.ms, s.directory.timeoutMs + s.directory.connectTimeoutMs + kNoHangMs);
    slapd.resume();
    auto back = lookupUntilFound(*d, "alice", 5000);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->status, DirectoryStatus::Found) << back->error;
}

// Destroying a Directory with lookups in flight against a hung server
// returns promptly (the worker's waits are bounded) and runs no callback.
TEST_F(Resilience, DestroyWithPendingLookupsIsPrompt) {
    SlapdProcess& slapd = *slapd_;
    Settings s = uncached({slapd.uri()});
    auto d = makeDirectory(s);
    ASSERT_EQ(lookupUser(*d, "alice")->status, DirectoryStatus::Found);
    slapd.pause();
    bool called = false;
    for (int i = 0; i < 10; ++i) d->lookupUser("alice", [&](UserLookupResult&&) { called = true; });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto t0 = std::chrono::steady_clock::now();
    d.reset();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0).count();
    EXPECT_LE(ms, s.directory.connectTimeoutMs + 1000 + kNoHangMs / 2);
    EXPECT_FALSE(called);
    slapd.resume();
}

}  // namespace
}  // namespace dref::test
