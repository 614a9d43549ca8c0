#include "directory_service_client.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "remote_mailbox_cache_decoder.h"

namespace dref {

DirectoryServiceClient::DirectoryServiceClient(std::string socketPath, std::string identity,
                                               MailboxCacheLimits limits, WatchFn watch)
    : path_(std::move(socketPath)), identity_(std::move(identity)), limits_(limits),
      connection_(std::move(watch)) {}

DirectoryServiceClient::~DirectoryServiceClient() {
    pending_.clear();
    connection_.close();
}

bool DirectoryServiceClient::connect(ServiceReply* failure) {
    int err = 0;
    const int fd = connectUnixStream(path_, &failure->error, &err);
    if (fd < 0) {
        failure->kind = err == ENOENT ? ServiceReply::Kind::NoService : ServiceReply::Kind::Failed;
        return false;
    }
    versionSeen_ = false;
    std::string error;
    if (!connection_.open(fd, limits_.maxBytes, identity_, &error)) {
        failure->kind = ServiceReply::Kind::Failed;
        failure->error = path_ + ": " + error;
        return false;
    }
    return true;
}

uint64_t DirectoryServiceClient::lookup(const std::string& user, Callback callback,
                                        ServiceReply* failure, TableBuilderFn makeBuilder) {
    if (!connection_.isOpen() && !connect(failure)) return 0;
    const uint64_t id = nextId_++;
    std::string error;
    if (!connection_.channel()->send(encodeLookupLine(id, user), &error)) {
        failure->kind = ServiceReply::Kind::Failed;
        failure->error = path_ + ": " + error;
        // Requests already sent fail from the event loop: the broken socket
        // reports itself readable (reset or end of file) at the next turn.
        if (pending_.empty()) connection_.close();
        return 0;
    }
    pending_.emplace(id, Pending{user, std::move(callback), std::move(makeBuilder)});
    connection_.updateWatch();
    return id;
}

void DirectoryServiceClient::cancel(uint64_t id) {
    pending_.erase(id);
    if (pending_.empty()) connection_.close();  // an idle connection is not kept
}

void DirectoryServiceClient::takeFailed(const std::string& why, Ready* ready) {
    std::map<uint64_t, Pending> pending;
    pending.swap(pending_);
    connection_.close();
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
    if (!connection_.isOpen()) return;
    std::string error;
    if (!connection_.channel()->flush(&error)) {
        Ready ready;
        takeFailed(path_ + ": " + error, &ready);
        deliver(&ready);
        return;
    }
    connection_.updateWatch();
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
    std::unique_ptr<RemoteMailboxTable::Builder> builder;
    if (p.makeBuilder && m.status == ServiceAnswerStatus::Found)
        builder = p.makeBuilder(&res.tableWarnings);
    std::optional<MailboxCacheRecord> rec =
        builder ? decodeMailboxCacheInto(m.payload, p.user, identity_, limits_, builder.get(),
                                         &error)
                : decodeMailboxCache(m.payload, p.user, identity_, limits_, &error);
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
    if (builder) {
        // The answer's bytes first: the table's build allocates its own.
        std::string().swap(m.payload);
        try {
            res.table = std::make_shared<RemoteMailboxTable>(builder->finish());
        } catch (const std::exception& e) {
            r.kind = ServiceReply::Kind::Failed;
            r.error = path_ + ": answer for the user not taken: " + e.what();
        }
    } else {
        res.mailboxes = std::move(rec->mailboxes);
    }
    return r;
}

void DirectoryServiceClient::onReadable() {
    if (!connection_.isOpen()) return;
    std::string error;
    ProtocolReader* reader = connection_.reader();
    const SocketChannel::ReadStatus st = connection_.channel()->readInto(reader, &error);
    // Answers complete before the close or the error are delivered first.
    Ready ready;
    ProtocolMessage m;
    while (reader->next(&m)) {
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
    if (error.empty() && reader->failed()) error = path_ + ": " + reader->error();
    if (error.empty() && st == SocketChannel::ReadStatus::Closed && !pending_.empty())
        error = path_ + ": the service closed the connection";
    if (!error.empty() && st == SocketChannel::ReadStatus::Error) error = path_ + ": " + error;
    if (!error.empty() || st != SocketChannel::ReadStatus::Ok)
        takeFailed(error, &ready);
    else if (pending_.empty())
        connection_.close();
    else
        connection_.updateWatch();
    deliver(&ready);
}

}  // namespace dref
