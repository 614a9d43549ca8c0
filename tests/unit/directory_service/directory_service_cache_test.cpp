// The referral-directory service's cache of remote-mailbox answers (ages,
// bounds, shared lookups, what is never kept), through its client over a
// real UNIX socket (directory_service_test_util.h).
#include "directory_service_test_util.h"
#include "remote_mailbox_cache_encoder.h"

namespace dref::testing_service {

TEST_F(DirectoryServiceTest, AnswerFromTheDirectoryThenFromTheCacheWithItsAge) {
    startService(settings_);
    auto& c = client();
    ServiceReply r;
    bool done = false;
    ask(c, "carol", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    EXPECT_EQ(directory_.requests[0].user, "carol");
    directory_.answer(found("Shared/Projects"));
    pumpUntil([&] { return done; });
    ASSERT_EQ(r.kind, ServiceReply::Kind::Answer) << r.error;
    EXPECT_EQ(r.result.status, DirectoryStatus::Found);
    ASSERT_EQ(r.result.mailboxes.size(), 1u);
    EXPECT_EQ(r.result.mailboxes[0].name, "Shared/Projects");
    EXPECT_EQ(r.result.mailboxes[0].locations[0].host, "home2.lab.test");
    EXPECT_EQ(r.result.ageMs, 0);
    EXPECT_TRUE(clientFds_.empty()) << "an idle client keeps no connection";

    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ask(c, "carol", &r, &done);
    pumpUntil([&] { return done; });
    ASSERT_EQ(r.kind, ServiceReply::Kind::Answer) << r.error;
    EXPECT_EQ(r.result.mailboxes.size(), 1u);
    EXPECT_GE(r.result.ageMs, 40);
    EXPECT_TRUE(r.result.fromCache);
    EXPECT_TRUE(directory_.requests.empty()) << "a cached answer asked the directory";

    // After cache_ttl the directory is asked again.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ask(c, "carol", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    directory_.answer(found("Shared/Other"));
    pumpUntil([&] { return done; });
    ASSERT_EQ(r.result.mailboxes.size(), 1u);
    EXPECT_EQ(r.result.mailboxes[0].name, "Shared/Other");
    EXPECT_EQ(service_->stats().cacheHits, 1u);
    EXPECT_EQ(service_->stats().directoryLookups, 2u);
}

// cache_max_bytes bounds the memory of the kept answers, whatever their
// count: a large answer pushes out the least recently used ones, and an
// answer larger than the bound is passed on but not kept.
TEST_F(DirectoryServiceTest, CacheIsBoundedByBytes) {
    Settings s = settings_;
    s.directory.cacheTtlMs = 60000;
    // Room for two one-entry answers, not three (users of one length).
    MailboxCacheRecord rec;
    rec.user = "carol";
    rec.identity = mailboxCacheIdentity(s.directory);
    rec.mailboxes = found("A").mailboxes;
    std::string error;
    const size_t one = encodeMailboxCache(rec, MailboxCacheLimits{}, &error)->size() + 2 * 5 + 192;
    const size_t bound = 2 * one + one / 2;
    s.directory.cacheMaxBytes = bound;
    startService(s);
    auto fetch = [&](const std::string& user, MailboxLookupResult answer) {
        ServiceReply r;
        bool done = false;
        ask(client(), user, &r, &done);
        if (!answer.mailboxes.empty() || answer.status != DirectoryStatus::Found) {
            pumpUntil([&] { return !directory_.requests.empty() || done; });
            if (!done) directory_.answer(std::move(answer));
        }
        pumpUntil([&] { return done; });
        EXPECT_EQ(r.kind, ServiceReply::Kind::Answer) << r.error;
        return r;
    };
    fetch("carol", found("A"));
    fetch("david", found("B"));
    EXPECT_EQ(service_->stats().cacheEntries, 2u);
    EXPECT_LE(service_->stats().cacheBytes, bound);
    fetch("carol", MailboxLookupResult{});  // a hit: carol is now the most recently used
    EXPECT_EQ(service_->stats().cacheHits, 1u);
    fetch("erica", found("C"));  // david, the least recently used, makes room
    EXPECT_EQ(service_->stats().cacheEntries, 2u);
    EXPECT_LE(service_->stats().cacheBytes, bound);
    const uint64_t lookups = service_->stats().directoryLookups;
    fetch("carol", MailboxLookupResult{});
    EXPECT_EQ(service_->stats().directoryLookups, lookups) << "carol was evicted";
    fetch("david", found("B"));
    EXPECT_EQ(service_->stats().directoryLookups, lookups + 1) << "david was not evicted";

    // A table larger than the whole bound reaches the client, complete, and is not kept.
    MailboxLookupResult big = found("Big/0");
    for (int i = 1; i < 20; ++i) big.mailboxes.push_back(found("Big/" + std::to_string(i)).mailboxes[0]);
    ServiceReply r = fetch("frank", big);
    EXPECT_EQ(r.result.mailboxes.size(), 20u);
    EXPECT_LE(service_->stats().cacheBytes, bound);
    fetch("frank", big);
    EXPECT_EQ(service_->stats().directoryLookups, lookups + 3) << "an answer over the bound was kept";
}

TEST_F(DirectoryServiceTest, ConcurrentRequestsShareOneLookup) {
    startService(settings_);
    ServiceReply r1, r2, r3;
    bool d1, d2, d3;
    ask(client(), "carol", &r1, &d1);
    ask(client(), "carol", &r2, &d2);
    ask(client(), "dave", &r3, &d3);
    pumpUntil([&] { return service_->stats().requests == 3; });
    ASSERT_EQ(directory_.requests.size(), 2u);
    MailboxLookupResult notFound;
    notFound.status = DirectoryStatus::NotFound;
    directory_.answer(found("Shared/Projects"));
    directory_.answer(notFound);
    pumpUntil([&] { return d1 && d2 && d3; });
    EXPECT_EQ(r1.result.mailboxes.size(), 1u);
    EXPECT_EQ(r2.result.mailboxes.size(), 1u);
    EXPECT_EQ(r3.result.status, DirectoryStatus::NotFound);
}

TEST_F(DirectoryServiceTest, UnavailableIsPassedOnAndNeverCached) {
    startService(settings_);
    auto& c = client();
    ServiceReply r;
    bool done;
    ask(c, "carol", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    MailboxLookupResult down;
    down.status = DirectoryStatus::Unavailable;
    down.error = "timeout: no answer\r\nfrom ldap://x/";
    directory_.answer(down);
    pumpUntil([&] { return done; });
    ASSERT_EQ(r.kind, ServiceReply::Kind::Answer);
    EXPECT_EQ(r.result.status, DirectoryStatus::Unavailable);
    EXPECT_EQ(r.result.error, "timeout: no answer??from ldap://x/");
    ask(c, "carol", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
}

// The service's own directory encodes on its LDAP thread
// (DirectoryOptions::encodeMailboxes): such an answer is passed on and kept
// as one encoded the usual way; one that could not be encoded is
// unavailable, as when encodeMailboxCache fails, and not kept.
TEST_F(DirectoryServiceTest, EncodedAnswerIsPassedOnAsTheSameTable) {
    startService(settings_);
    auto& c = client();
    auto encodedFound = [](const std::vector<std::string>& names) {
        MailboxLookupResult r;
        r.status = DirectoryStatus::Found;
        r.encoded = true;
        std::string error;
        for (const std::string& n : names) {
            EXPECT_TRUE(appendMailboxCacheEntry(found(n).mailboxes[0], &r.encodedLines, &error));
            ++r.encodedCount;
        }
        return r;
    };
    ServiceReply r;
    bool done = false;
    ask(c, "carol", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    directory_.answer(encodedFound({"Shared/Projects", "Shared/Archive"}));
    pumpUntil([&] { return done; });
    ASSERT_EQ(r.kind, ServiceReply::Kind::Answer) << r.error;
    ASSERT_EQ(r.result.status, DirectoryStatus::Found);
    ASSERT_EQ(r.result.mailboxes.size(), 2u);
    EXPECT_EQ(r.result.mailboxes[1].name, "Shared/Archive");
    EXPECT_EQ(r.result.mailboxes[1].locations[0].host, "home2.lab.test");
    ask(c, "carol", &r, &done);
    pumpUntil([&] { return done; });
    EXPECT_EQ(r.result.mailboxes.size(), 2u);
    EXPECT_EQ(service_->stats().cacheHits, 1u);

    MailboxLookupResult refused = encodedFound({"Shared/Projects"});
    refused.encodeError = "a DN cannot be cached";
    ask(c, "dave", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    directory_.answer(refused);
    pumpUntil([&] { return done; });
    ASSERT_EQ(r.kind, ServiceReply::Kind::Answer) << r.error;
    EXPECT_EQ(r.result.status, DirectoryStatus::Unavailable);
    EXPECT_NE(r.result.error.find("a DN cannot be cached"), std::string::npos) << r.result.error;
    EXPECT_TRUE(r.result.mailboxes.empty());
    ask(c, "dave", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });  // not kept
}

// The imap process's way since issue 13's session 14: a Found answer
// decoded straight into the session's table (the builder made when the
// answer arrives), with the build's warnings; a NotFound answer needs no
// builder; a cached answer comes the same way.
TEST_F(DirectoryServiceTest, FoundAnswerDecodedStraightIntoTheTable_R2193_3) {
    startService(settings_);
    auto& c = client();
    const std::vector<std::string> local = {"home2.lab.test"};
    const std::vector<std::string> allowed;
    int builders = 0;
    auto makeBuilder = [&](std::vector<std::string>* warnings) {
        ++builders;
        return std::make_unique<RemoteMailboxTable::Builder>('/', local, allowed, warnings);
    };
    MailboxLookupResult answer = found("Shared/Projects");
    answer.mailboxes.push_back(found("Shared/Archive").mailboxes[0]);
    answer.mailboxes.back().locations[0].host = "home1.lab.test";
    for (int round = 0; round < 2; ++round) {  // from the directory, then from the cache
        ServiceReply r;
        bool done = false;
        ask(c, "carol", &r, &done, makeBuilder);
        if (round == 0) {
            pumpUntil([&] { return directory_.requests.size() == 1; });
            directory_.answer(answer);
        }
        pumpUntil([&] { return done; });
        ASSERT_EQ(r.kind, ServiceReply::Kind::Answer) << r.error;
        ASSERT_EQ(r.result.status, DirectoryStatus::Found);
        EXPECT_TRUE(r.result.mailboxes.empty());
        ASSERT_TRUE(r.result.table);
        // home2.lab.test is this server here: never a referral to ourselves.
        ASSERT_EQ(r.result.table->size(), 1u);
        EXPECT_TRUE(r.result.table->find("Shared/Archive"));
        EXPECT_FALSE(r.result.table->find("Shared/Projects"));
        ASSERT_EQ(r.result.tableWarnings.size(), 2u);
        EXPECT_NE(r.result.tableWarnings[0].find("this server"), std::string::npos)
            << r.result.tableWarnings[0];
        EXPECT_EQ(builders, round + 1);
    }
    ServiceReply r;
    bool done = false;
    ask(c, "dave", &r, &done, makeBuilder);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    directory_.answer(MailboxLookupResult{});
    pumpUntil([&] { return done; });
    ASSERT_EQ(r.kind, ServiceReply::Kind::Answer) << r.error;
    EXPECT_EQ(r.result.status, DirectoryStatus::NotFound);
    EXPECT_FALSE(r.result.table);
    EXPECT_EQ(builders, 2);
}

}  // namespace dref::testing_service
