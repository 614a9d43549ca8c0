// WatchedServiceConnection: the VERSION line goes out at open(), the watch
// follows the descriptor and the wish to write, is told only of changes,
// and is removed before the descriptor is closed.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "directory_protocol.h"
#include "watched_service_connection.h"

namespace dref {
namespace {

struct WatchCall {
    int fd;
    bool wantWrite;
    bool fdOpen;  // the descriptor was still open when the watch was told
};

class WatchedServiceConnectionTest : public ::testing::Test {
protected:
    void SetUp() override {
        int fds[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        ours_ = fds[0];  // owned by the connection once opened
        peer_ = fds[1];
    }
    void TearDown() override {
        if (peer_ >= 0) close(peer_);
    }

    WatchedServiceConnection::WatchFn recorder() {
        return [this](int fd, bool wantWrite) {
            const int checked = fd >= 0 ? fd : lastFd_;
            calls_.push_back({fd, wantWrite, fcntl(checked, F_GETFD) != -1});
            if (fd >= 0) lastFd_ = fd;
        };
    }

    std::string readPeer() {
        std::string got;
        char buf[4096];
        pollfd p = {peer_, POLLIN, 0};
        while (poll(&p, 1, 0) > 0) {
            const ssize_t r = read(peer_, buf, sizeof buf);
            if (r <= 0) break;
            got.append(buf, static_cast<size_t>(r));
        }
        return got;
    }

    int ours_ = -1;
    int peer_ = -1;
    int lastFd_ = -1;
    std::vector<WatchCall> calls_;
};

TEST_F(WatchedServiceConnectionTest, OpenSendsTheVersionLine) {
    WatchedServiceConnection c(recorder());
    std::string error;
    ASSERT_TRUE(c.open(ours_, 1024, "abc123", &error)) << error;
    EXPECT_TRUE(c.isOpen());
    ASSERT_NE(c.channel(), nullptr);
    ASSERT_NE(c.reader(), nullptr);
    EXPECT_EQ(readPeer(), encodeVersionLine("abc123"));
    EXPECT_TRUE(calls_.empty());  // not watched before updateWatch()
}

TEST_F(WatchedServiceConnectionTest, WatchToldOfChangesOnly) {
    WatchedServiceConnection c(recorder());
    std::string error;
    ASSERT_TRUE(c.open(ours_, 1024, "id", &error)) << error;
    c.updateWatch();
    c.updateWatch();  // nothing changed: not told again
    ASSERT_EQ(calls_.size(), 1u);
    EXPECT_EQ(calls_[0].fd, ours_);
    EXPECT_FALSE(calls_[0].wantWrite);

    // More than a socket buffer takes while the peer reads nothing: bytes
    // wait, so watch for writing too.
    ASSERT_TRUE(c.channel()->send(std::string(8 << 20, 'x'), &error)) << error;
    ASSERT_TRUE(c.channel()->wantsWrite());
    c.updateWatch();
    ASSERT_EQ(calls_.size(), 2u);
    EXPECT_EQ(calls_[1].fd, ours_);
    EXPECT_TRUE(calls_[1].wantWrite);
}

TEST_F(WatchedServiceConnectionTest, WatchRemovedBeforeTheDescriptorIsClosed) {
    WatchedServiceConnection c(recorder());
    std::string error;
    ASSERT_TRUE(c.open(ours_, 1024, "id", &error)) << error;
    c.updateWatch();
    c.close();
    EXPECT_FALSE(c.isOpen());
    EXPECT_EQ(c.channel(), nullptr);
    EXPECT_EQ(c.reader(), nullptr);
    ASSERT_EQ(calls_.size(), 2u);
    EXPECT_EQ(calls_[1].fd, -1);
    EXPECT_FALSE(calls_[1].wantWrite);
    EXPECT_TRUE(calls_[1].fdOpen);        // told while the descriptor was open
    EXPECT_EQ(fcntl(ours_, F_GETFD), -1);  // and closed afterwards
    c.close();                             // closed already: not told again
    c.updateWatch();
    EXPECT_EQ(calls_.size(), 2u);
}

TEST_F(WatchedServiceConnectionTest, UnwatchedCloseTellsNothing) {
    {
        WatchedServiceConnection c(recorder());
        std::string error;
        ASSERT_TRUE(c.open(ours_, 1024, "id", &error)) << error;
    }  // closed by the destructor
    EXPECT_TRUE(calls_.empty());
    EXPECT_EQ(fcntl(ours_, F_GETFD), -1);
}

TEST_F(WatchedServiceConnectionTest, FailedVersionSendClosesAgain) {
    close(peer_);
    peer_ = -1;
    WatchedServiceConnection c(recorder());
    std::string error;
    EXPECT_FALSE(c.open(ours_, 1024, "id", &error));
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(c.isOpen());
    EXPECT_EQ(fcntl(ours_, F_GETFD), -1);
    EXPECT_TRUE(calls_.empty());
}

}  // namespace
}  // namespace dref
