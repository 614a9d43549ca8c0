#include "directory_service_client.h"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace dref {

DirectoryServiceClient::DirectoryServiceClient(std::string socketPath, std::string identity,
                                               MailboxCacheLimits limits, WatchFn watch)
    : path_(std::move(socketPath)), identity_(std::move(identity)), limits_(limits),
      watch_(std::move(watch)) {}

DirectoryServiceClient::~DirectoryServiceClient() {
    pending_.clear();
    disconnect();
}

bool DirectoryServiceClient::connect(ServiceReply* failure) {
    int err = 0;
    const int fd = connectUnixStream(path_, &failure->error, &err);
    if (fd < 0) {
        failure->kind = err == ENOENT ? ServiceReply::Kind::NoService : ServiceReply::Kind::Failed;
        return false;
    }
    channel_ = std::make_unique<SocketChannel>(fd);
    reader_ = std::make_unique<ProtocolReader>(ProtocolReader::Peer::Service, limits_.maxBytes);
    versionSeen_ = false;
    std::string error;
    if (!channel_->send(encodeVersionLine(identity_), &error)) {
        disconnect();
        failure->kind = ServiceReply::Kind::Failed;
        failure->error = path_ + ": " + error;
        return false;
    }
    return true;
}

void DirectoryServiceClient::disconnect() {
    // The watch goes before the descriptor is closed: an event loop must
    // not be left watching a closed (or reused) descriptor.
    if (watchedFd_ >= 0) {
        watchedFd_ = -1;
        watchedWrite_ = false;
        if (watch_) watch_(-1, false);
    }
    channel_.reset();
    reader_.reset();
}

void DirectoryServiceClient::updateWatch() {
    const int fd = channel_ ? channel_->fd() : -1;
    const bool write = channel_ && channel_->wantsWrite();
    if (fd == watchedFd_ && write == watchedWrite_) return;
    watchedFd_ = fd;
    watchedWrite_ = write;
    if (watch_) watch_(fd, write);
}

uint64_t DirectoryServiceClient::lookup(const std::string& user, Callback callback,
                                        ServiceReply* failure) {
    if (!channel_ && !connect(failure)) return 0;
    const uint64_t id = nextId_++;
    std::string error;
    if (!channel_->send(encodeLookupLine(id, user), &error)) {
        failure->kind = ServiceReply::Kind::Failed;
        failure->error = path_ + ": " + error;
        // Requests already sent fail from the event loop: the broken socket
        // reports itself readable (reset or end of file) at the next turn.
        if (pending_.empty()) disconnect();
        return 0;
    }
    pending_.emplace(id, Pending{user, std::move(callback)});
    updateWatch();
    return id;
}

void DirectoryServiceClient::cancel(uint64_t id) {
    pending_.erase(id);
    if (pending_.empty()) disconnect();  // an idle connection is not kept
}

void DirectoryServiceClient::takeFailed(const std::string& why, Ready* ready) {
    std::map<uint64_t, Pending> pending;
    pending.swap(pending_);
    disconnect();
    for (auto& [id, p] : pending) {
        ServiceReply r;
        r.kind = ServiceReply::Kind::Failed;
        r.error = why;
        ready->emplace_back(std::move(p.callback), std::move(r));
    }
}

void DirectoryServiceClient::deliver(Ready* ready) {
    // Callbacks last, on a list of their own: they may start new lookups on
    // this client.
    for (auto& [cb, reply] : *ready) cb(std::move(reply));
}

void DirectoryServiceClient::onWritable() {
    if (!channel_) return;
    std::string error;
    if (!channel_->flush(&error)) {
        Ready ready;
        takeFailed(path_ + ": " + error, &ready);
        deliver(&ready);
        return;
    }
    updateWatch();
}

ServiceReply DirectoryServiceClient::toReply(const Pending& p, ProtocolMessage&& m) const {
    ServiceReply r;
    r.kind = ServiceReply::Kind::Answer;
    MailboxLookupResult& res = r.result;
    res.ageMs = m.ageMs;
    res.fromCache = m.ageMs > 0;
    if (m.status == ServiceAnswerStatus::Unavailable) {
        res.status = DirectoryStatus::Unavailable;
        res.error = std::move(m.payload);
        return r;
    }
    std::string error;
    std::optional<MailboxCacheRecord> rec =
        decodeMailboxCache(m.payload, p.user, identity_, limits_, &error);
    if (!rec) {
        r.kind = ServiceReply::Kind::Failed;
        r.error = path_ + ": answer for the user refused: " + error;
        return r;
    }
    const bool found = rec->answer == CachedAnswer::Found;
    if (found != (m.status == ServiceAnswerStatus::Found)) {
        r.kind = ServiceReply::Kind::Failed;
        r.error = path_ + ": answer status and payload disagree";
        return r;
    }
    res.status = found ? DirectoryStatus::Found : DirectoryStatus::NotFound;
    res.mailboxes = std::move(rec->mailboxes);
    return r;
}

void DirectoryServiceClient::onReadable() {
    if (!channel_) return;
    std::string error;
    const SocketChannel::ReadStatus st = channel_->readInto(reader_.get(), &error);
    // Answers complete before the close or the error are delivered first.
    Ready ready;
    ProtocolMessage m;
    while (reader_ && reader_->next(&m)) {
        if (m.kind == ProtocolMessage::Kind::Version) {
            if (m.identity != identity_) {
                error = path_ + ": the service uses other directory settings (identity " +
                        m.identity + ", this process " + identity_ +
                        "): is it reading another settings file?";
                break;
            }
            versionSeen_ = true;
            continue;
        }
        auto it = pending_.find(m.id);
        if (it == pending_.end()) continue;  // cancelled meanwhile
        ServiceReply reply = toReply(it->second, std::move(m));
        ready.emplace_back(std::move(it->second.callback), std::move(reply));
        pending_.erase(it);
    }
    if (error.empty() && reader_ && reader_->failed()) error = path_ + ": " + reader_->error();
    if (error.empty() && st == SocketChannel::ReadStatus::Closed && !pending_.empty())
        error = path_ + ": the service closed the connection";
    if (!error.empty() && st == SocketChannel::ReadStatus::Error) error = path_ + ": " + error;
    if (!error.empty() || st != SocketChannel::ReadStatus::Ok)
        takeFailed(error, &ready);
    else if (pending_.empty())
        disconnect();
    else
        updateWatch();
    deliver(&ready);
}

}  // namespace dref
