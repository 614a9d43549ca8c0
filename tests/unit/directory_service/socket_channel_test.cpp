// SocketChannel's two-part send (the referral-directory service writes an
// answer's line and its 160 kB payload from where they lie): the peer reads
// exactly head then body, whether the socket takes everything at once, only
// part of it (the rest queued and flushed when writable), or nothing
// because earlier bytes still wait.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "socket_channel.h"

namespace dref {
namespace {

class SocketChannelTest : public ::testing::Test {
protected:
    void SetUp() override {
        int fds[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        // A small send buffer: a large body does not fit at once.
        const int small = 4096;
        ASSERT_EQ(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
        channel_ = std::make_unique<SocketChannel>(fds[0]);
        peer_ = fds[1];
    }
    void TearDown() override {
        channel_.reset();
        if (peer_ >= 0) close(peer_);
    }

    // Reads `n` octets at the peer, flushing the channel whenever it waits.
    std::string readAll(size_t n) {
        std::string got;
        char buf[8192];
        while (got.size() < n) {
            std::string error;
            EXPECT_TRUE(channel_->flush(&error)) << error;
            pollfd p = {peer_, POLLIN, 0};
            if (poll(&p, 1, 2000) <= 0) break;
            const ssize_t r = read(peer_, buf, sizeof buf);
            if (r <= 0) break;
            got.append(buf, static_cast<size_t>(r));
        }
        return got;
    }

    std::unique_ptr<SocketChannel> channel_;
    int peer_ = -1;
};

std::string pattern(size_t n, char first) {
    std::string s(n, ' ');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(first + i % 23);
    return s;
}

// The channel never blocks its owner's event loop: a blocking descriptor
// (SetUp's socketpair) is made non-blocking, one created non-blocking stays so.
TEST_F(SocketChannelTest, DescriptorIsNonBlockingWhateverItCameAs) {
    EXPECT_NE(fcntl(channel_->fd(), F_GETFL) & O_NONBLOCK, 0);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    {
        SocketChannel already(fds[0]);
        EXPECT_NE(fcntl(already.fd(), F_GETFL) & O_NONBLOCK, 0);
    }
    close(fds[1]);
}

TEST_F(SocketChannelTest, SmallHeadAndBodyGoOutAtOnce) {
    std::string error;
    ASSERT_TRUE(channel_->send("ANSWER 1 found 0 3\n", "abc", &error)) << error;
    EXPECT_FALSE(channel_->wantsWrite());
    EXPECT_EQ(readAll(22), "ANSWER 1 found 0 3\nabc");
}

TEST_F(SocketChannelTest, WhatTheSocketDoesNotTakeIsQueuedInOrder) {
    const std::string head = pattern(100, 'A');
    const std::string body = pattern(300000, 'a');
    std::string error;
    ASSERT_TRUE(channel_->send(head, body, &error)) << error;
    EXPECT_TRUE(channel_->wantsWrite());  // 300 kB do not fit in the socket
    // Behind queued bytes: appended after them, nothing reordered.
    ASSERT_TRUE(channel_->send("tail-head\n", "tail-body", &error)) << error;
    ASSERT_TRUE(channel_->send("one part\n", &error)) << error;
    const std::string expected = head + body + "tail-head\ntail-body" + "one part\n";
    EXPECT_EQ(readAll(expected.size()), expected);
    EXPECT_FALSE(channel_->wantsWrite());
}

TEST_F(SocketChannelTest, HeadLargerThanTheSocketTakesQueuesHeadRestAndBody) {
    const std::string head = pattern(200000, 'A');
    const std::string body = pattern(5000, 'a');
    std::string error;
    ASSERT_TRUE(channel_->send(head, body, &error)) << error;
    EXPECT_TRUE(channel_->wantsWrite());
    EXPECT_EQ(readAll(head.size() + body.size()), head + body);
}

TEST_F(SocketChannelTest, PeerGoneIsAnErrorNotASignal) {
    close(peer_);
    peer_ = -1;
    std::string error;
    EXPECT_FALSE(channel_->send("ANSWER 1 found 0 3\n", "abc", &error));
    EXPECT_NE(error.find("write failed"), std::string::npos);
}

}  // namespace
}  // namespace dref
