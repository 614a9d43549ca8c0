#include "directory_service.h"

#include "remote_mailbox_cache_encoder.h"
#include "response_text.h"

#include <chrono>
#include <sys/socket.h>
#include <unistd.h>

namespace dref {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxWarningLines = 20;
// A cache entry's memory besides its payload and key: the list and hash
// nodes, the strings' headers, the allocator's rounding.
constexpr size_t kCacheEntryOverheadBytes = 192;

int64_t msSince(Clock::time_point t, Clock::time_point now) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - t).count();
}

}  // namespace

DirectoryService::DirectoryService(Directory& directory, const Settings& settings, LogFn log,
                                   WatchFn watch)
    : directory_(directory), settings_(settings), log_(std::move(log)), watch_(std::move(watch)),
      identity_(mailboxCacheIdentity(settings.directory)),
      cache_(settings.directory.cacheSize, settings.directory.cacheMaxBytes),
      held_(kPrefetchHoldMax, settings.directory.cacheMaxBytes) {
    limits_.maxEntries = settings.directory.mailboxMaxEntries;
}

DirectoryService::~DirectoryService() {
    for (auto& [user, f] : inFlight_) directory_.cancel(f.lookupId);
    inFlight_.clear();
    closeAll();
}

DirectoryServiceStats DirectoryService::stats() const {
    DirectoryServiceStats s = stats_;
    s.connections = byFd_.size();
    s.cacheEntries = cache_.size();
    s.cacheBytes = cache_.bytes();
    return s;
}

DirectoryService::Connection* DirectoryService::bySerial(uint64_t serial) {
    auto it = fdBySerial_.find(serial);
    if (it == fdBySerial_.end()) return nullptr;
    auto c = byFd_.find(it->second);
    return c == byFd_.end() ? nullptr : c->second.get();
}

void DirectoryService::addConnection(int fd) {
    // A room for a whole answer of a large table in the socket (1 000
    // entries are about 160 kB; the kernel caps this at net.core.wmem_max):
    // with the default, the answer goes out in pieces, one wakeup of each
    // process per piece, which on a busy machine costs milliseconds.
    const int sndbuf = 1 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    auto c = std::make_unique<Connection>();
    c->serial = nextSerial_++;
    c->channel = std::make_unique<SocketChannel>(fd);
    Connection& ref = *c;
    byFd_[fd] = std::move(c);
    fdBySerial_[ref.serial] = fd;
    watch_(fd, true, false);
    send(ref, encodeVersionLine(identity_));
}

void DirectoryService::updateWatch(Connection& c) {
    if (!c.channel) return;
    const bool w = c.channel->wantsWrite();
    if (w == c.wantWrite) return;
    c.wantWrite = w;
    watch_(c.channel->fd(), true, w);
}

void DirectoryService::drop(Connection& c, const std::string& why, LogLevel level) {
    if (!c.channel) return;
    const int fd = c.channel->fd();
    // A peer that went away (its session ended before the answer) is
    // ordinary; a broken protocol is worth a warning (drop() callers say
    // which by the level they pass).
    if (!why.empty()) log_(level, "client connection closed: " + why);
    // The watch goes before the descriptor is closed.
    watch_(fd, false, false);
    fdBySerial_.erase(c.serial);
    auto it = byFd_.find(fd);
    std::unique_ptr<Connection> keep = std::move(it->second);
    byFd_.erase(it);
    keep->channel.reset();  // closes fd; `c` (== *keep) is freed when keep goes
}

void DirectoryService::send(Connection& c, const std::string& bytes) {
    if (!c.channel) return;
    std::string error;
    if (!c.channel->send(bytes, &error)) {
        drop(c, error, LogLevel::Debug);
        return;
    }
    updateWatch(c);
}

void DirectoryService::closeAll() {
    std::vector<int> fds;
    for (auto& [fd, c] : byFd_) fds.push_back(fd);
    for (int fd : fds) {
        auto it = byFd_.find(fd);
        if (it != byFd_.end()) drop(*it->second, "", LogLevel::Debug);
    }
}

void DirectoryService::onWritable(int fd) {
    auto it = byFd_.find(fd);
    if (it == byFd_.end()) return;
    Connection& c = *it->second;
    std::string error;
    if (!c.channel->flush(&error)) {
        drop(c, error, LogLevel::Debug);
        return;
    }
    updateWatch(c);
}

void DirectoryService::onReadable(int fd) {
    auto it = byFd_.find(fd);
    if (it == byFd_.end()) return;
    const uint64_t serial = it->second->serial;
    Connection& c = *it->second;
    std::string error;
    const SocketChannel::ReadStatus st = c.channel->readInto(&c.reader, &error);
    ProtocolMessage m;
    // Every message read is handled before a close or an error ends the
    // connection; handle() may drop it (then bySerial() no longer finds it).
    while (bySerial(serial) != nullptr && c.reader.next(&m)) handle(c, std::move(m));
    if (bySerial(serial) == nullptr) return;
    if (c.reader.failed()) {
        ++stats_.protocolErrors;
        drop(c, "protocol error: " + c.reader.error(), LogLevel::Warning);
    } else if (st == SocketChannel::ReadStatus::Error) {
        drop(c, error, LogLevel::Debug);
    } else if (st == SocketChannel::ReadStatus::Closed) {
        drop(c, "", LogLevel::Debug);  // the imap process is done (or went away): nothing to say
    }
}

void DirectoryService::handle(Connection& c, ProtocolMessage&& m) {
    if (m.kind == ProtocolMessage::Kind::Version) {
        c.versionSeen = true;
        if (m.identity != identity_)
            log_(LogLevel::Debug, "client with other directory settings (identity " +
                                      m.identity + "); it will not use the answers");
        return;
    }
    if (m.kind == ProtocolMessage::Kind::Prefetch) {
        prefetch(m.user);
        return;
    }
    ++stats_.requests;
    if (++c.outstanding > kDirectoryServiceMaxOutstanding) {
        ++stats_.protocolErrors;
        drop(c, "more than " + std::to_string(kDirectoryServiceMaxOutstanding) +
                    " outstanding requests", LogLevel::Warning);
        return;
    }
    const Clock::time_point now = Clock::now();
    if (const CachedAnswer* hit = cache_.get(m.user, now)) {
        ++stats_.cacheHits;
        --c.outstanding;
        sendAnswer(c, m.id, *hit, msSince(hit->fetchedAt, now));
        return;
    }
    CachedAnswer held;
    if (held_.size() != 0 && held_.take(m.user, now, &held)) {
        // A prefetched answer the cache does not keep: for this one session.
        ++stats_.prefetchHeldHits;
        --c.outstanding;
        log_(LogLevel::Debug, "lookup of " + quoteForLog(m.user) + " answered by its prefetch");
        sendAnswer(c, m.id, held, msSince(held.fetchedAt, now));
        return;
    }
    auto [it, inserted] = inFlight_.try_emplace(m.user);
    it->second.waiters.push_back(Waiter{c.serial, m.id});
    if (!inserted) {  // the lookup for this user is under way
        if (it->second.prefetched && it->second.waiters.size() == 1) {
            ++stats_.prefetchJoins;
            log_(LogLevel::Debug, "lookup of " + quoteForLog(m.user) + " joined its prefetch");
        }
        return;
    }
    ++stats_.directoryLookups;
    const std::string user = m.user;
    it->second.lookupId = directory_.lookupRemoteMailboxes(
        user, [this, user](MailboxLookupResult&& r) { onAnswer(user, std::move(r)); });
}

void DirectoryService::prefetch(const std::string& user) {
    ++stats_.prefetches;
    const Clock::time_point now = Clock::now();
    // Cached, held or under way: the LOOKUP will find it; nothing to ask.
    if (inFlight_.count(user) != 0 || cache_.get(user, now) != nullptr ||
        held_.get(user, now) != nullptr)
        return;
    if (prefetchLookups_ >= kMaxPrefetchLookups) {
        ++stats_.prefetchesDropped;
        log_(LogLevel::Debug, "prefetch of " + quoteForLog(user) + " dropped: " +
                                  std::to_string(kMaxPrefetchLookups) +
                                  " prefetched lookups under way");
        return;
    }
    ++stats_.prefetchLookups;
    ++stats_.directoryLookups;
    ++prefetchLookups_;
    log_(LogLevel::Debug, "prefetch of " + quoteForLog(user) + ": asking the directory");
    InFlight& f = inFlight_[user];
    f.prefetched = true;
    f.lookupId = directory_.lookupRemoteMailboxes(
        user, [this, user](MailboxLookupResult&& r) { onAnswer(user, std::move(r)); });
}

void DirectoryService::onAnswer(const std::string& user, MailboxLookupResult&& r) {
    auto node = inFlight_.extract(user);
    if (node.empty()) return;
    if (node.mapped().prefetched && prefetchLookups_ > 0) --prefetchLookups_;
    const Clock::time_point now = Clock::now();
    CachedAnswer a;
    a.fetchedAt = now;
    int ttlMs = -1;  // kept in the cache for this long (found, not-found); -1: not kept
    size_t n = 0;
    for (const std::string& w : r.warnings) {
        if (++n > kMaxWarningLines) {
            log_(LogLevel::Warning, "remote mailboxes of " + quoteForLog(user) + ": " +
                                        std::to_string(r.warnings.size() - kMaxWarningLines) +
                                        " more warnings not shown");
            break;
        }
        log_(LogLevel::Warning, "remote mailboxes of " + quoteForLog(user) + ": " + w);
    }
    if (r.status == DirectoryStatus::Unavailable) {
        a.status = ServiceAnswerStatus::Unavailable;
        a.payload = r.error;
        log_(LogLevel::Warning, "remote mailboxes of " + quoteForLog(user) +
                                    ": directory unavailable (" + r.error + ")");
    } else {
        const dref::CachedAnswer answer = r.status == DirectoryStatus::Found
                                              ? dref::CachedAnswer::Found
                                              : dref::CachedAnswer::NotFound;
        std::string error;
        const Clock::time_point encodeStart = Clock::now();
        std::optional<std::string> payload;
        size_t entries = 0;
        if (r.encoded) {
            // Encoded on the LDAP worker as the entries arrived
            // (DirectoryOptions::encodeMailboxes): only the header and the
            // end line are left.
            entries = r.encodedCount;
            if (r.encodeError.empty())
                payload = assembleMailboxCache(user, identity_, answer, r.encodedCount,
                                               r.encodedLines, limits_, &error);
            else
                error = r.encodeError;
        } else {
            MailboxCacheRecord rec;
            rec.user = user;
            rec.identity = identity_;
            rec.answer = answer;
            rec.mailboxes = std::move(r.mailboxes);
            entries = rec.mailboxes.size();
            payload = encodeMailboxCache(rec, limits_, &error);
        }
        log_(LogLevel::Debug,
             "remote mailboxes of " + quoteForLog(user) + ": " + std::to_string(entries) +
                 " entries from the directory in " + std::to_string(r.elapsedUs) +
                 " us, encoded in " +
                 std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                    Clock::now() - encodeStart)
                                    .count()) +
                 " us");
        if (payload) {
            a.status = r.status == DirectoryStatus::Found ? ServiceAnswerStatus::Found
                                                          : ServiceAnswerStatus::NotFound;
            a.payload = std::move(*payload);
            ttlMs = r.status == DirectoryStatus::Found ? settings_.directory.cacheTtlMs
                                                       : settings_.directory.negativeCacheTtlMs;
        } else {
            // Never a partial table: the session serves local mailboxes, as
            // for a directory failure, and the admin learns why.
            a.status = ServiceAnswerStatus::Unavailable;
            a.payload = "the directory's answer cannot be passed on: " + error;
            log_(LogLevel::Error, "remote mailboxes of " + quoteForLog(user) + ": " + a.payload);
        }
    }
    for (const Waiter& w : node.mapped().waiters) {
        Connection* c = bySerial(w.connSerial);
        if (c == nullptr) continue;  // that imap process went away
        if (c->outstanding > 0) --c->outstanding;
        sendAnswer(*c, w.requestId, a, 0);
    }
    // Kept after the waiters have it: the answer is moved into the cache,
    // not copied while they wait.
    if (ttlMs >= 0) {
        // What the entry holds: the answer, the key (twice: list and
        // index) and the bookkeeping around them.
        const size_t bytes = a.payload.size() + 2 * user.size() + kCacheEntryOverheadBytes;
        const bool cacheKeepsIt = ttlMs > 0 && settings_.directory.cacheSize > 0 &&
                                  bytes <= settings_.directory.cacheMaxBytes;
        if (cacheKeepsIt || !node.mapped().prefetched || !node.mapped().waiters.empty()) {
            cache_.put(user, std::move(a), std::chrono::milliseconds(ttlMs), now, bytes);
        } else {
            // Prefetched and not yet asked for: held for the session's LOOKUP.
            log_(LogLevel::Debug, "prefetched answer of " + quoteForLog(user) +
                                      " held for its session");
            held_.put(user, std::move(a), std::chrono::milliseconds(kPrefetchHoldMs), now, bytes);
        }
    }
}

void DirectoryService::sendAnswer(Connection& c, uint64_t id, const CachedAnswer& a,
                                  int64_t ageMs) {
    if (a.status == ServiceAnswerStatus::Unavailable) {
        send(c, encodeAnswer(id, a.status, ageMs, a.payload));  // the reason is cleaned there
        return;
    }
    if (!c.channel) return;
    std::string error;
    if (!c.channel->send(encodeAnswerLine(id, a.status, ageMs, a.payload.size()), a.payload,
                         &error)) {
        drop(c, error, LogLevel::Debug);
        return;
    }
    updateWatch(c);
}

}  // namespace dref
