// PREFETCH (docs/directory-service.md §6): the auth process's hint that
// starts a user's remote mailbox lookup before the imap process asks, the
// service's handling of it (the LOOKUP joins the lookup, or finds the answer
// held for it when the cache keeps nothing; bounded), and the auth side's
// DirectoryPrefetcher (never blocks, drops the hint on every failure and
// does not retry a missing service at every login).  Over a real UNIX
// socket with a fake Directory (directory_service_test_util.h).
#include "directory_prefetcher.h"
#include "directory_service_test_util.h"

namespace dref::testing_service {

class PrefetchTest : public DirectoryServiceTest {
protected:
    DirectoryPrefetcher& prefetcher() {
        if (!prefetcher_)
            prefetcher_ = std::make_unique<DirectoryPrefetcher>(
                path_, mailboxCacheIdentity(settings_.directory),
                [this](int fd, bool w) {
                    prefetchFd_ = fd;
                    prefetchWrite_ = w;
                },
                [this](const std::string& line) { prefetchLog_.push_back(line); });
        return *prefetcher_;
    }
    // One round of both loops, the prefetcher's descriptor included.
    void pump() {
        if (prefetchFd_ >= 0) {
            pollfd p{prefetchFd_, static_cast<short>(POLLIN | (prefetchWrite_ ? POLLOUT : 0)), 0};
            if (poll(&p, 1, 0) > 0) {
                if (p.revents & POLLOUT) prefetcher_->onWritable();
                if (p.revents & (POLLIN | POLLHUP | POLLERR) && prefetchFd_ >= 0)
                    prefetcher_->onReadable();
            }
        }
        pumpOnce(5);
    }
    void pumpWhile(const std::function<bool()>& busy, int maxMs = 3000) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(maxMs);
        while (busy()) {
            ASSERT_LT(std::chrono::steady_clock::now(), end) << "timed out";
            pump();
        }
    }
    void TearDown() override {
        prefetcher_.reset();
        DirectoryServiceTest::TearDown();
    }

    std::unique_ptr<DirectoryPrefetcher> prefetcher_;
    int prefetchFd_ = -1;
    bool prefetchWrite_ = false;
    std::vector<std::string> prefetchLog_;
};

TEST_F(PrefetchTest, LookupJoinsThePrefetchedLookup) {
    startService(settings_);
    ASSERT_TRUE(prefetcher().prefetch("carol"));
    pumpWhile([&] { return directory_.requests.empty(); });
    EXPECT_EQ(directory_.requests[0].user, "carol");
    ServiceReply r;
    bool done = false;
    ask(client(), "carol", &r, &done);
    pumpWhile([&] { return service_->stats().requests == 0; });
    EXPECT_EQ(directory_.requests.size(), 1u) << "the LOOKUP asked the directory again";
    directory_.answer(found("Shared/Projects"));
    pumpWhile([&] { return !done; });
    ASSERT_EQ(r.kind, ServiceReply::Kind::Answer) << r.error;
    ASSERT_EQ(r.result.mailboxes.size(), 1u);
    EXPECT_EQ(r.result.ageMs, 0);
    const DirectoryServiceStats st = service_->stats();
    EXPECT_EQ(st.prefetches, 1u);
    EXPECT_EQ(st.prefetchLookups, 1u);
    EXPECT_EQ(st.prefetchJoins, 1u);
    EXPECT_EQ(st.directoryLookups, 1u);
    EXPECT_TRUE(prefetchFd_ >= 0) << "the auth process's connection is kept between logins";
}

// cache_size = 0: the prefetched answer that arrives before its LOOKUP is
// held for that one LOOKUP; the next one asks the directory again.
TEST_F(PrefetchTest, AnswerBeforeTheLookupIsHeldForItOnceWithoutCache) {
    Settings s = settings_;
    s.directory.cacheSize = 0;
    startService(s);
    ASSERT_TRUE(prefetcher().prefetch("carol"));
    pumpWhile([&] { return directory_.requests.empty(); });
    directory_.answer(found("Shared/Projects"));
    ServiceReply r;
    bool done = false;
    ask(client(), "carol", &r, &done);
    pumpWhile([&] { return !done; });
    ASSERT_EQ(r.kind, ServiceReply::Kind::Answer) << r.error;
    ASSERT_EQ(r.result.mailboxes.size(), 1u);
    EXPECT_TRUE(directory_.requests.empty());
    EXPECT_EQ(service_->stats().prefetchHeldHits, 1u);
    ask(client(), "carol", &r, &done);
    pumpWhile([&] { return directory_.requests.empty(); });  // asked again: nothing kept
    directory_.answer(found("Shared/Other"));
    pumpWhile([&] { return !done; });
    EXPECT_EQ(r.result.mailboxes[0].name, "Shared/Other");
}

TEST_F(PrefetchTest, UnavailableIsNotHeld) {
    Settings s = settings_;
    s.directory.cacheSize = 0;
    startService(s);
    ASSERT_TRUE(prefetcher().prefetch("carol"));
    pumpWhile([&] { return directory_.requests.empty(); });
    MailboxLookupResult down;
    down.status = DirectoryStatus::Unavailable;
    down.error = "timeout";
    directory_.answer(down);
    ServiceReply r;
    bool done = false;
    ask(client(), "carol", &r, &done);
    pumpWhile([&] { return directory_.requests.empty(); });  // the LOOKUP asks for itself
    directory_.answer(found("Shared/Projects"));
    pumpWhile([&] { return !done; });
    EXPECT_EQ(r.result.status, DirectoryStatus::Found);
    EXPECT_EQ(service_->stats().prefetchHeldHits, 0u);
}

TEST_F(PrefetchTest, CachedUserIsNotAskedFor) {
    startService(settings_);
    ServiceReply r;
    bool done = false;
    ask(client(), "carol", &r, &done);
    pumpWhile([&] { return directory_.requests.empty(); });
    directory_.answer(found("Shared/Projects"));
    pumpWhile([&] { return !done; });
    ASSERT_TRUE(prefetcher().prefetch("carol"));
    pumpWhile([&] { return service_->stats().prefetches == 0; });
    EXPECT_TRUE(directory_.requests.empty()) << "a cached answer was asked for again";
    EXPECT_EQ(service_->stats().prefetchLookups, 0u);
}

// A peer of the socket that prefetches many users does not start more than
// kMaxPrefetchLookups searches at once.
TEST_F(PrefetchTest, PrefetchedLookupsAreBounded) {
    startService(settings_);
    for (size_t i = 0; i <= kMaxPrefetchLookups; ++i)
        ASSERT_TRUE(prefetcher().prefetch("user" + std::to_string(i)));
    pumpWhile([&] { return service_->stats().prefetches <= kMaxPrefetchLookups; });
    EXPECT_EQ(directory_.requests.size(), kMaxPrefetchLookups);
    EXPECT_EQ(service_->stats().prefetchesDropped, 1u);
    // One answered: room for the next.
    directory_.answer(found("Shared/Projects"));
    ASSERT_TRUE(prefetcher().prefetch("late"));
    pumpWhile([&] { return service_->stats().prefetches <= kMaxPrefetchLookups + 1; });
    EXPECT_EQ(directory_.requests.size(), kMaxPrefetchLookups);
    EXPECT_EQ(directory_.requests.back().user, "late");
}

TEST_F(PrefetchTest, NoServiceDropsTheHintAndDoesNotRetryAtEveryLogin) {
    const auto t0 = DirectoryPrefetcher::Clock::now();
    EXPECT_FALSE(prefetcher().prefetch("carol", t0));
    const size_t lines = prefetchLog_.size();
    ASSERT_GE(lines, 1u);
    EXPECT_NE(prefetchLog_.back().find(path_), std::string::npos) << prefetchLog_.back();
    EXPECT_FALSE(prefetcher().prefetch("carol", t0 + std::chrono::milliseconds(500)));
    ASSERT_EQ(prefetchLog_.size(), lines + 1);
    EXPECT_EQ(prefetchLog_.back().find("connect"), std::string::npos)
        << "a missing service was tried again within a second: " << prefetchLog_.back();
    EXPECT_EQ(prefetcher().stats().dropped, 2u);
    startService(settings_);
    EXPECT_TRUE(prefetcher().prefetch("carol", t0 + std::chrono::milliseconds(1100)));
    pumpWhile([&] { return directory_.requests.empty(); });
    EXPECT_EQ(prefetcher().stats().sent, 1u);
}

// The service restarted: the prefetcher notices the closed connection and
// reconnects at a later login; nothing waits, nothing fails.
TEST_F(PrefetchTest, ClosedServiceConnectionIsNoticedAndReopenedLater) {
    startService(settings_);
    ASSERT_TRUE(prefetcher().prefetch("carol"));
    pumpWhile([&] { return directory_.requests.empty(); });
    service_->closeAll();
    pumpWhile([&] { return prefetchFd_ >= 0; });
    const auto later = DirectoryPrefetcher::Clock::now() + std::chrono::seconds(2);
    ASSERT_TRUE(prefetcher().prefetch("dave", later));
    pumpWhile([&] { return directory_.requests.size() < 2; });
    EXPECT_EQ(directory_.requests[1].user, "dave");
    EXPECT_EQ(prefetcher().stats().connects, 2u);
}

// A service that does not read: the hints queue up to
// kPrefetchMaxQueuedBytes in this process, then are dropped; never a block.
TEST_F(PrefetchTest, QueueIsBoundedWhenTheServiceDoesNotRead) {
    listen();  // a listener nobody accepts from: the socket's buffers fill
    const std::string user(1000, 'u');
    size_t sent = 0;
    bool dropped = false;
    for (int i = 0; i < 5000 && !dropped; ++i) {
        if (prefetcher().prefetch(user)) ++sent;
        else dropped = true;
    }
    EXPECT_TRUE(dropped) << "the queue grew without bound";
    EXPECT_GT(sent, 0u);
    EXPECT_TRUE(prefetchWrite_) << "the queued hints wait for the socket to take them";
}

}  // namespace dref::testing_service
