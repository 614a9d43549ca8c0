#pragma once
// The referral-directory service and its client (ldap/directory:
// directory_service.h, directory_service_client.h) talking over a real UNIX
// socket, with a fake Directory behind the service (the LDAP side has its
// own tests against slapd in tests/directory).  poll() stands in for
// Dovecot's ioloop on both sides.  Shared by directory_service_cache_test.cpp
// and directory_service_protocol_test.cpp (not a test file itself).
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

namespace dref::testing_service {

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
    const UserLookupResult* cachedUser(const std::string&) override {
        ADD_FAILURE() << "the service never asks for user records";
        return nullptr;
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


inline MailboxLookupResult found(const std::string& name) {
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
    // With makeBuilder, a Found answer is decoded straight into a table.
    uint64_t ask(DirectoryServiceClient& c, const std::string& user, ServiceReply* out, bool* done,
                 DirectoryServiceClient::TableBuilderFn makeBuilder = nullptr) {
        *done = false;
        ServiceReply failure;
        uint64_t id = c.lookup(user, [out, done](ServiceReply&& r) { *out = std::move(r); *done = true; },
                               &failure, std::move(makeBuilder));
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

}  // namespace dref::testing_service
