#include "socket_channel.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

namespace dref {

int connectUnixStream(const std::string& path, std::string* error, int* errnoOut) {
    *errnoOut = 0;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof sa.sun_path) {
        *error = "socket path '" + path + "' is empty or too long";
        return -1;
    }
    memcpy(sa.sun_path, path.data(), path.size());
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *errnoOut = errno;
        *error = std::string("socket() failed: ") + strerror(errno);
        return -1;
    }
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        *errnoOut = errno;
        close(fd);
        *error = "connect(" + path + ") failed: " + strerror(*errnoOut);
        return -1;
    }
    return fd;
}

SocketChannel::SocketChannel(int fd) : fd_(fd) {
    // connectUnixStream's sockets are created non-blocking: one system call
    // per session start instead of two.
    const int flags = fcntl(fd_, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) == 0) (void)fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

SocketChannel::~SocketChannel() {
    if (fd_ >= 0) close(fd_);
}

bool SocketChannel::send(std::string_view bytes, std::string* error) {
    return send(bytes, std::string_view(), error);
}

bool SocketChannel::send(std::string_view head, std::string_view body, std::string* error) {
    if (sent_ < out_.size()) {
        // Earlier bytes wait: these go behind them.
        out_.append(head.data(), head.size());
        out_.append(body.data(), body.size());
        return flush(error);
    }
    out_.clear();
    sent_ = 0;
    const size_t total = head.size() + body.size();
    size_t done = 0;
    while (done < total) {
        iovec iov[2];
        int count = 0;
        if (done < head.size()) {
            iov[count++] = {const_cast<char*>(head.data() + done), head.size() - done};
            if (!body.empty()) iov[count++] = {const_cast<char*>(body.data()), body.size()};
        } else {
            const size_t at = done - head.size();
            iov[count++] = {const_cast<char*>(body.data() + at), body.size() - at};
        }
        msghdr mh{};
        mh.msg_iov = iov;
        mh.msg_iovlen = static_cast<size_t>(count);
        // MSG_NOSIGNAL: a peer that went away is an error here, not SIGPIPE.
        const ssize_t n = ::sendmsg(fd_, &mh, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        *error = std::string("write failed: ") + (n < 0 ? strerror(errno) : "no progress");
        return false;
    }
    // What the socket did not take waits for flush().
    if (done < head.size()) {
        out_.append(head.data() + done, head.size() - done);
        out_.append(body.data(), body.size());
    } else if (done < total) {
        const size_t at = done - head.size();
        out_.append(body.data() + at, body.size() - at);
    }
    return true;
}

bool SocketChannel::flush(std::string* error) {
    while (sent_ < out_.size()) {
        // MSG_NOSIGNAL: a peer that went away is an error here, not SIGPIPE.
        const ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
        if (n > 0) {
            sent_ += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        *error = std::string("write failed: ") + (n < 0 ? strerror(errno) : "no progress");
        return false;
    }
    out_.clear();
    sent_ = 0;
    return true;
}

SocketChannel::ReadStatus SocketChannel::readInto(ProtocolReader* reader, std::string* error,
                                                  size_t maxBytes) {
    char buf[16384];
    size_t total = 0;
    while (total < maxBytes) {
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n > 0) {
            total += static_cast<size_t>(n);
            if (!reader->feed(std::string_view(buf, static_cast<size_t>(n)))) {
                *error = reader->error();
                return ReadStatus::Error;
            }
            continue;
        }
        if (n == 0) return ReadStatus::Closed;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStatus::Ok;
        *error = std::string("read failed: ") + strerror(errno);
        return ReadStatus::Error;
    }
    return ReadStatus::Ok;
}

}  // namespace dref
