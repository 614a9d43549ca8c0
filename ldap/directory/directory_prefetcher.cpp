#include "directory_prefetcher.h"

#include "response_text.h"

namespace dref {

DirectoryPrefetcher::DirectoryPrefetcher(std::string socketPath, std::string identity,
                                         WatchFn watch, LogFn debug, Clock::duration retryAfter)
    : path_(std::move(socketPath)), identity_(std::move(identity)), watch_(std::move(watch)),
      debug_(std::move(debug)), retryAfter_(retryAfter) {}

DirectoryPrefetcher::~DirectoryPrefetcher() { disconnect(""); }

bool DirectoryPrefetcher::connect(Clock::time_point now) {
    std::string why;
    int err = 0;
    const int fd = connectUnixStream(path_, &why, &err);
    if (fd < 0) {
        noConnectBefore_ = now + retryAfter_;
        if (debug_) debug_("directory prefetch: " + why + "; no prefetching for a while");
        return false;
    }
    channel_ = std::make_unique<SocketChannel>(fd);
    // The service sends its VERSION line and nothing else to a peer that
    // only prefetches; anything more is a broken peer (payload limit 0).
    reader_ = std::make_unique<ProtocolReader>(ProtocolReader::Peer::Service, 0);
    ++stats_.connects;
    std::string error;
    if (!channel_->send(encodeVersionLine(identity_), &error)) {
        disconnect(path_ + ": " + error);
        noConnectBefore_ = now + retryAfter_;
        return false;
    }
    return true;
}

void DirectoryPrefetcher::disconnect(const std::string& why) {
    // The watch goes before the descriptor is closed.
    if (watchedFd_ >= 0) {
        watchedFd_ = -1;
        watchedWrite_ = false;
        if (watch_) watch_(-1, false);
    }
    channel_.reset();
    reader_.reset();
    if (!why.empty() && debug_) debug_("directory prefetch: connection closed: " + why);
}

void DirectoryPrefetcher::updateWatch() {
    const int fd = channel_ ? channel_->fd() : -1;
    const bool write = channel_ && channel_->wantsWrite();
    if (fd == watchedFd_ && write == watchedWrite_) return;
    watchedFd_ = fd;
    watchedWrite_ = write;
    if (watch_) watch_(fd, write);
}

bool DirectoryPrefetcher::prefetch(const std::string& user, Clock::time_point now) {
    if (user.empty() || user.size() > kDirectoryProtocolMaxUserBytes) {
        ++stats_.dropped;
        return false;
    }
    if (!channel_ && now < noConnectBefore_) {
        ++stats_.dropped;
        if (debug_)
            debug_("directory prefetch of " + quoteForLog(user) + " dropped: " + path_ +
                   " was not reachable a moment ago");
        return false;
    }
    if (!channel_ && !connect(now)) {
        ++stats_.dropped;
        return false;
    }
    const std::string line = encodePrefetchLine(user);
    if (channel_->queuedBytes() + line.size() > kPrefetchMaxQueuedBytes) {
        ++stats_.dropped;
        if (debug_)
            debug_("directory prefetch of " + quoteForLog(user) + " dropped: " +
                   std::to_string(channel_->queuedBytes()) + " bytes not yet taken by " + path_);
        return false;
    }
    std::string error;
    if (!channel_->send(line, &error)) {
        ++stats_.dropped;
        disconnect(path_ + ": " + error);
        return false;
    }
    ++stats_.sent;
    if (debug_) debug_("directory prefetch of " + quoteForLog(user) + " sent to " + path_);
    updateWatch();
    return true;
}

void DirectoryPrefetcher::onWritable() {
    if (!channel_) return;
    std::string error;
    if (!channel_->flush(&error)) {
        disconnect(path_ + ": " + error);
        noConnectBefore_ = Clock::now() + retryAfter_;
        return;
    }
    updateWatch();
}

void DirectoryPrefetcher::onReadable() {
    if (!channel_) return;
    std::string error;
    const SocketChannel::ReadStatus st = channel_->readInto(reader_.get(), &error, 4096);
    ProtocolMessage m;
    while (reader_->next(&m)) {
        if (m.kind != ProtocolMessage::Kind::Version) {
            error = "unexpected message from the service";
            break;
        }
        if (m.identity != identity_) {
            // Its answers would not be used by the imap processes either: a
            // prefetch would only load the directory.
            error = "the service uses other directory settings (identity " + m.identity +
                    ", this process " + identity_ + ")";
            break;
        }
    }
    if (error.empty() && reader_->failed()) error = reader_->error();
    if (error.empty() && st == SocketChannel::ReadStatus::Closed)
        error = "the service closed the connection";
    if (!error.empty()) {
        disconnect(path_ + ": " + error);
        // A service that went away or refuses us: not again at the next login.
        noConnectBefore_ = Clock::now() + retryAfter_;
        return;
    }
    updateWatch();
}

}  // namespace dref
