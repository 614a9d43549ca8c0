#include "directory_prefetcher.h"

#include "response_text.h"

namespace dref {

DirectoryPrefetcher::DirectoryPrefetcher(std::string socketPath, std::string identity,
                                         WatchFn watch, LogFn debug, Clock::duration retryAfter)
    : path_(std::move(socketPath)), identity_(std::move(identity)), debug_(std::move(debug)),
      retryAfter_(retryAfter), connection_(std::move(watch)) {}

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
    ++stats_.connects;
    std::string error;
    // The service sends its VERSION line and nothing else to a peer that
    // only prefetches; anything more is a broken peer (payload limit 0).
    if (!connection_.open(fd, 0, identity_, &error)) {
        disconnect(path_ + ": " + error);
        noConnectBefore_ = now + retryAfter_;
        return false;
    }
    return true;
}

void DirectoryPrefetcher::disconnect(const std::string& why) {
    connection_.close();
    if (!why.empty() && debug_) debug_("directory prefetch: connection closed: " + why);
}

bool DirectoryPrefetcher::prefetch(const std::string& user, Clock::time_point now) {
    if (user.empty() || user.size() > kDirectoryProtocolMaxUserBytes) {
        ++stats_.dropped;
        return false;
    }
    if (!connection_.isOpen() && now < noConnectBefore_) {
        ++stats_.dropped;
        if (debug_)
            debug_("directory prefetch of " + quoteForLog(user) + " dropped: " + path_ +
                   " was not reachable a moment ago");
        return false;
    }
    if (!connection_.isOpen() && !connect(now)) {
        ++stats_.dropped;
        return false;
    }
    const std::string line = encodePrefetchLine(user);
    SocketChannel* channel = connection_.channel();
    if (channel->queuedBytes() + line.size() > kPrefetchMaxQueuedBytes) {
        ++stats_.dropped;
        if (debug_)
            debug_("directory prefetch of " + quoteForLog(user) + " dropped: " +
                   std::to_string(channel->queuedBytes()) + " bytes not yet taken by " + path_);
        return false;
    }
    std::string error;
    if (!channel->send(line, &error)) {
        ++stats_.dropped;
        disconnect(path_ + ": " + error);
        return false;
    }
    ++stats_.sent;
    if (debug_) debug_("directory prefetch of " + quoteForLog(user) + " sent to " + path_);
    connection_.updateWatch();
    return true;
}

void DirectoryPrefetcher::onWritable() {
    if (!connection_.isOpen()) return;
    std::string error;
    if (!connection_.channel()->flush(&error)) {
        disconnect(path_ + ": " + error);
        noConnectBefore_ = Clock::now() + retryAfter_;
        return;
    }
    connection_.updateWatch();
}

void DirectoryPrefetcher::onReadable() {
    if (!connection_.isOpen()) return;
    std::string error;
    ProtocolReader* reader = connection_.reader();
    const SocketChannel::ReadStatus st = connection_.channel()->readInto(reader, &error, 4096);
    ProtocolMessage m;
    while (reader->next(&m)) {
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
    if (error.empty() && reader->failed()) error = reader->error();
    if (error.empty() && st == SocketChannel::ReadStatus::Closed)
        error = "the service closed the connection";
    if (!error.empty()) {
        disconnect(path_ + ": " + error);
        // A service that went away or refuses us: not again at the next login.
        noConnectBefore_ = Clock::now() + retryAfter_;
        return;
    }
    connection_.updateWatch();
}

}  // namespace dref
