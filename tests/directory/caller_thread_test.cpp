// DirectoryOptions::searchOnCallerThread (the auth process's directory),
// whatever DREF_DIRECTORY_SEARCH_ON_CALLER_THREAD says: once connected, a
// search goes out inside lookupUser() on the caller's thread, its answer
// still comes only from process(), and many searches at once are answered
// one by one, each with its own entry.  (The other directory tests run in
// this mode too, as a second ctest entry: failover, timeouts, TLS.)
#include <poll.h>

#include <map>

#include "directory_fixture.h"

namespace dref::test {
namespace {

std::unique_ptr<Directory> callerThreadDirectory(const Settings& s) {
    DirectoryOptions o;
    o.searchOnCallerThread = true;
    std::string error;
    auto d = Directory::create(s, &error, o);
    EXPECT_TRUE(d) << error;
    return d;
}

Settings uncachedSettings() {
    Settings s = testSettings();
    s.directory.cacheTtlMs = 0;
    s.directory.negativeCacheTtlMs = 0;
    return s;
}

// After one lookup: the worker has connected and lent the connection.
void lookUpFirst(Directory& d) {
    auto first = lookupUser(d, "alice");
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, DirectoryStatus::Found) << first->error;
}

TEST(CallerThread, SearchLeavesInsideTheCallAnswerArrivesFromProcess) {
    auto d = callerThreadDirectory(uncachedSettings());
    ASSERT_TRUE(d);
    ASSERT_NO_FATAL_FAILURE(lookUpFirst(*d));

    const auto searches = d->ldapStats().searches;
    std::optional<UserLookupResult> answer;
    d->lookupUser("carol", [&](UserLookupResult&& r) { answer = std::move(r); });
    // Sent already, by this thread (with the worker it would be counted
    // only once the worker had woken up and sent it).
    EXPECT_EQ(d->ldapStats().searches, searches + 1);
    EXPECT_FALSE(answer);  // never from inside the call

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!answer && std::chrono::steady_clock::now() < deadline) {
        pollfd p{d->eventFd(), POLLIN, 0};
        poll(&p, 1, 100);
        d->process();
    }
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, DirectoryStatus::Found) << answer->error;
    EXPECT_EQ(answer->record.dn, "uid=carol,ou=people,dc=example,dc=test");
    EXPECT_EQ(d->ldapStats().connects, 1u);
}

TEST(CallerThread, ManySearchesAtOnceEachGetsItsOwnAnswer) {
    auto d = callerThreadDirectory(uncachedSettings());
    ASSERT_TRUE(d);
    const std::vector<std::string> known = {"alice", "carol", "dave", "erin"};
    std::map<std::string, std::optional<UserLookupResult>> answers;
    std::vector<std::string> asked;
    for (int round = 0; round < 25; ++round) {
        for (const auto& user : known) asked.push_back(user + "#" + std::to_string(round));
        asked.push_back("nobody" + std::to_string(round) + "#" + std::to_string(round));
    }
    for (const auto& key : asked) {
        const std::string user = key.substr(0, key.find('#'));
        answers[key];
        d->lookupUser(user, [&answers, key](UserLookupResult&& r) { answers[key] = std::move(r); });
    }
    auto allAnswered = [&] {
        for (const auto& [key, a] : answers)
            if (!a) return false;
        return true;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!allAnswered() && std::chrono::steady_clock::now() < deadline) {
        pollfd p{d->eventFd(), POLLIN, 0};
        poll(&p, 1, 100);
        d->process();
    }
    ASSERT_TRUE(allAnswered());
    for (const auto& [key, a] : answers) {
        const std::string user = key.substr(0, key.find('#'));
        SCOPED_TRACE(key);
        if (user.rfind("nobody", 0) == 0) {
            EXPECT_EQ(a->status, DirectoryStatus::NotFound) << a->error;
        } else {
            ASSERT_EQ(a->status, DirectoryStatus::Found) << a->error;
            EXPECT_EQ(a->record.dn, "uid=" + user + ",ou=people,dc=example,dc=test");
        }
    }
    EXPECT_EQ(d->ldapStats().searches, asked.size());
}

// Nothing to do: the descriptor stays quiet (no busy loop in the caller's
// event loop once the answers are read and no deadline is near).
TEST(CallerThread, IdleDescriptorIsNotReadable) {
    auto d = callerThreadDirectory(uncachedSettings());
    ASSERT_TRUE(d);
    ASSERT_NO_FATAL_FAILURE(lookUpFirst(*d));
    d->process();
    pollfd p{d->eventFd(), POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 200), 0);
}

}  // namespace
}  // namespace dref::test
