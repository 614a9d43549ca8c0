#include "watched_service_connection.h"

#include <utility>

namespace dref {

WatchedServiceConnection::WatchedServiceConnection(WatchFn watch) : watch_(std::move(watch)) {}

WatchedServiceConnection::~WatchedServiceConnection() { close(); }

bool WatchedServiceConnection::open(int fd, size_t maxPayloadBytes, const std::string& identity,
                                    std::string* error) {
    close();
    channel_ = std::make_unique<SocketChannel>(fd);
    reader_ = std::make_unique<ProtocolReader>(ProtocolReader::Peer::Service, maxPayloadBytes);
    if (!channel_->send(encodeVersionLine(identity), error)) {
        close();
        return false;
    }
    return true;
}

void WatchedServiceConnection::close() {
    if (watchedFd_ >= 0) {
        watchedFd_ = -1;
        watchedWrite_ = false;
        if (watch_) watch_(-1, false);
    }
    channel_.reset();
    reader_.reset();
}

void WatchedServiceConnection::updateWatch() {
    const int fd = channel_ ? channel_->fd() : -1;
    const bool write = channel_ && channel_->wantsWrite();
    if (fd == watchedFd_ && write == watchedWrite_) return;
    watchedFd_ = fd;
    watchedWrite_ = write;
    if (watch_) watch_(fd, write);
}

}  // namespace dref
