// The referral-directory service and its client (ldap/directory:
// directory_service.h, directory_service_client.h) talking over a real UNIX
// socket, with a fake Directory behind the service (the LDAP side has its
// own tests against slapd in tests/directory).  poll() stands in for
// Dovecot's ioloop on both sides.
#include "directory_service.h"
#include "directory_service_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace dref {
namespace {

class FakeDirectory : public Directory {
public:
    struct Request {
        std::string user;
        std::function<void(MailboxLookupResult&&)> callback;
    };
    int eventFd() const override { return -1; }
    void process() override {}
    uint64_t lookupUser(const std::string&, std::function<void(UserLookupResult&&)>) override {
        ADD_FAILURE() << "the service never asks for user records";
        return 0;
    }
    std::optional<UserLookupResult> cachedUser(const std::string&) override {
        ADD_FAILURE() << "the service never asks for user records";
        return std::nullopt;
    }
    uint64_t refreshUser(const std::string&, std::function<void(UserLookupResult&&)>) override {
        ADD_FAILURE() << "the service never asks for user records";
        return 0;
    }
    uint64_t lookupRemoteMailboxes(const std::string& user,
                                   std::function<void(MailboxLookupResult&&)> cb) override {
        requests.push_back(Request{user, std::move(cb)});
        return requests.size();
    }
    void cancel(uint64_t) override { ++cancels; }
    DirectoryStats stats() const override { return {}; }
    ldap::ClientStats ldapStats() const override { return {}; }

    // Answers the oldest open request.
    void answer(MailboxLookupResult r) {
        ASSERT_FALSE(requests.empty());
        Request q = std::move(requests.front());
        requests.erase(requests.begin());
        q.callback(std::move(r));
    }

    std::vector<Request> requests;
    size_t cancels = 0;
};

MailboxLookupResult found(const std::string& name) {
    MailboxLookupResult r;
    r.status = DirectoryStatus::Found;
    RemoteMailbox m;
    m.name = name;
    m.dn = "imapMailboxName=" + name + ",ou=mailboxes,dc=example,dc=test";
    ImapUrlParts p;
    p.host = "home2.lab.test";
    p.mailbox = name;
    m.locations.push_back(p);
    r.mailboxes.push_back(m);
    return r;
}

class DirectoryServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/dref-dirsvc-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/referral-directory";
        settings_.directory.userBase = "ou=people,dc=example,dc=test";
        settings_.directory.cacheTtlMs = 300;
        settings_.directory.negativeCacheTtlMs = 100;
    }
    void TearDown() override {
        clients_.clear();
        service_.reset();
        if (listener_ >= 0) close(listener_);
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }

    void listen() {
        listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(listener_, 0);
        struct sockaddr_un sa {};
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
        ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        ASSERT_EQ(::listen(listener_, 16), 0);
    }

    void startService(const Settings& s) {
        listen();
        service_ = std::make_unique<DirectoryService>(
            directory_, s, [this](DirectoryService::LogLevel, const std::string& t) { log_.push_back(t); },
            [this](int fd, bool open, bool w) {
                if (open) serviceFds_[fd] = w;
                else serviceFds_.erase(fd);
            });
    }

    DirectoryServiceClient& client() {
        auto c = std::make_unique<DirectoryServiceClient>(
            path_, mailboxCacheIdentity(settings_.directory), MailboxCacheLimits{},
            [this, n = clients_.size()](int fd, bool w) {
                if (fd < 0) clientFds_.erase(n);
                else clientFds_[n] = {fd, w};
            });
        clients_.push_back(std::move(c));
        return *clients_.back();
    }

    // One round of the event loops of both sides.
    void pumpOnce(int timeoutMs = 20) {
        std::vector<pollfd> fds;
        std::vector<std::function<void(short)>> handlers;
        if (listener_ >= 0 && service_) {
            fds.push_back({listener_, POLLIN, 0});
            handlers.push_back([this](short) {
                int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
                if (fd >= 0) service_->addConnection(fd);
            });
        }
        for (auto& [fd, w] : serviceFds_) {
            fds.push_back({fd, static_cast<short>(POLLIN | (w ? POLLOUT : 0)), 0});
            handlers.push_back([this, fd = fd](short re) {
                if (re & POLLOUT) service_->onWritable(fd);
                if (re & (POLLIN | POLLHUP | POLLERR) && serviceFds_.count(fd)) service_->onReadable(fd);
            });
        }
        for (auto& [n, fw] : clientFds_) {
            fds.push_back({fw.first, static_cast<short>(POLLIN | (fw.second ? POLLOUT : 0)), 0});
            handlers.push_back([this, n = n](short re) {
                if (re & POLLOUT) clients_[n]->onWritable();
                if (re & (POLLIN | POLLHUP | POLLERR) && clientFds_.count(n)) clients_[n]->onReadable();
            });
        }
        if (fds.empty()) return;
        ASSERT_GE(poll(fds.data(), fds.size(), timeoutMs), 0);
        for (size_t i = 0; i < fds.size(); ++i)
            if (fds[i].revents) handlers[i](fds[i].revents);
    }

    void pumpUntil(const std::function<bool()>& done, int maxMs = 3000) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(maxMs);
        while (!done()) {
            ASSERT_LT(std::chrono::steady_clock::now(), end) << "timed out";
            pumpOnce();
        }
    }

    // A lookup whose reply is stored in *out (kind Failed until it arrives).
    uint64_t ask(DirectoryServiceClient& c, const std::string& user, ServiceReply* out, bool* done) {
        *done = false;
        ServiceReply failure;
        uint64_t id = c.lookup(user, [out, done](ServiceReply&& r) { *out = std::move(r); *done = true; },
                               &failure);
        if (id == 0) {
            *out = failure;
            *done = true;
        }
        return id;
    }

    std::string dir_, path_;
    int listener_ = -1;
    Settings settings_;
    FakeDirectory directory_;
    std::unique_ptr<DirectoryService> service_;
    std::vector<std::unique_ptr<DirectoryServiceClient>> clients_;
    std::map<int, bool> serviceFds_;
    std::map<size_t, std::pair<int, bool>> clientFds_;
    std::vector<std::string> log_;
};

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

TEST_F(DirectoryServiceTest, ClientGoneBeforeTheAnswerIsHarmless) {
    startService(settings_);
    ServiceReply r;
    bool done;
    auto& c = client();
    uint64_t id = ask(c, "carol", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    c.cancel(id);  // the session ended: the client closes its connection
    pumpUntil([&] { return service_->stats().connections == 0; });
    directory_.answer(found("Shared/Projects"));  // nobody to send it to; still cached
    ask(c, "carol", &r, &done);
    pumpUntil([&] { return done; });
    EXPECT_EQ(r.result.mailboxes.size(), 1u);
    EXPECT_FALSE(done && r.kind != ServiceReply::Kind::Answer);
}

TEST_F(DirectoryServiceTest, NoSocketMeansNoService) {
    ServiceReply r;
    bool done;
    EXPECT_EQ(ask(client(), "carol", &r, &done), 0u);
    EXPECT_EQ(r.kind, ServiceReply::Kind::NoService);
    EXPECT_NE(r.error.find(path_), std::string::npos);
}

TEST_F(DirectoryServiceTest, ServiceWithOtherSettingsIsNotUsed) {
    Settings other = settings_;
    other.directory.userBase = "ou=elsewhere,dc=example,dc=test";
    startService(other);
    ServiceReply r;
    bool done;
    ask(client(), "carol", &r, &done);
    pumpUntil([&] { return done; });
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("other directory settings"), std::string::npos) << r.error;
}

// A peer that is not our service: whatever it sends, the client fails the
// lookup with a reason and never builds a table from it.
class HostileServiceTest : public DirectoryServiceTest {
protected:
    ServiceReply against(const std::string& bytes) {
        listen();
        auto& c = client();
        ServiceReply r;
        bool done = false;
        ask(c, "carol", &r, &done);
        int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        EXPECT_GE(fd, 0);
        // Read the client's VERSION and LOOKUP (sent at once by lookup()):
        // closing with unread data would make the client see a reset, not
        // what this peer sends.
        char buf[4096];
        EXPECT_GT(read(fd, buf, sizeof buf), 0);
        EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
        close(fd);
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (!done && std::chrono::steady_clock::now() < end) pumpOnce();
        EXPECT_TRUE(done);
        return r;
    }
    std::string version() { return encodeVersionLine(mailboxCacheIdentity(settings_.directory)); }
};

TEST_F(HostileServiceTest, Garbage) {
    ServiceReply r = against("HTTP/1.1 200 OK\n\n");
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("expected VERSION first"), std::string::npos) << r.error;
}

TEST_F(HostileServiceTest, ClosedWithoutAnswer) {
    ServiceReply r = against(version());
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("closed"), std::string::npos) << r.error;
}

TEST_F(HostileServiceTest, PayloadForAnotherUser) {
    MailboxCacheRecord rec;
    rec.user = "mallory";
    rec.identity = mailboxCacheIdentity(settings_.directory);
    std::string error;
    auto payload = encodeMailboxCache(rec, {}, &error);
    ASSERT_TRUE(payload) << error;
    ServiceReply r = against(version() + encodeAnswer(1, ServiceAnswerStatus::Found, 0, *payload));
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
}

TEST_F(HostileServiceTest, DamagedPayload) {
    MailboxCacheRecord rec;
    rec.user = "carol";
    rec.identity = mailboxCacheIdentity(settings_.directory);
    rec.mailboxes.push_back(found("Shared/Projects").mailboxes[0]);
    std::string error;
    auto payload = encodeMailboxCache(rec, {}, &error);
    ASSERT_TRUE(payload) << error;
    std::string bad = *payload;
    bad[bad.find("home2")] = 'H';  // the checksum no longer matches
    ServiceReply r = against(version() + encodeAnswer(1, ServiceAnswerStatus::Found, 0, bad));
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
}

TEST_F(HostileServiceTest, StatusAndPayloadDisagree) {
    MailboxCacheRecord rec;
    rec.user = "carol";
    rec.identity = mailboxCacheIdentity(settings_.directory);
    rec.answer = CachedAnswer::NotFound;
    std::string error;
    auto payload = encodeMailboxCache(rec, {}, &error);
    ASSERT_TRUE(payload) << error;
    ServiceReply r = against(version() + encodeAnswer(1, ServiceAnswerStatus::Found, 0, *payload));
    EXPECT_EQ(r.kind, ServiceReply::Kind::Failed);
    EXPECT_NE(r.error.find("disagree"), std::string::npos) << r.error;
}

// A client that is not ours: the service drops its connection and stays up.
TEST_F(DirectoryServiceTest, HostileClientIsDropped) {
    startService(settings_);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa {};
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    const std::string junk = "GET / HTTP/1.0\r\n\r\n";
    ASSERT_EQ(write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
    pumpUntil([&] { return service_->stats().protocolErrors == 1; });
    pumpUntil([&] { return service_->stats().connections == 0; });
    close(fd);
    // Still serving.
    ServiceReply r;
    bool done;
    ask(client(), "carol", &r, &done);
    pumpUntil([&] { return directory_.requests.size() == 1; });
    directory_.answer(found("Shared/Projects"));
    pumpUntil([&] { return done; });
    EXPECT_EQ(r.kind, ServiceReply::Kind::Answer);
}

}  // namespace
}  // namespace dref
