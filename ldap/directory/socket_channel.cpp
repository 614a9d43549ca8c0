#include "socket_channel.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace dref {

SocketChannel::SocketChannel(int fd) : fd_(fd) {
    const int flags = fcntl(fd_, F_GETFL);
    if (flags >= 0) (void)fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

SocketChannel::~SocketChannel() {
    if (fd_ >= 0) close(fd_);
}

bool SocketChannel::send(std::string_view bytes, std::string* error) {
    if (sent_ == out_.size()) {
        out_.clear();
        sent_ = 0;
    }
    out_.append(bytes.data(), bytes.size());
    return flush(error);
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
