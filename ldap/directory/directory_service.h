#pragma once
// The referral-directory service's logic (docs/directory-service.md): one
// Directory (one LDAP connection) and one TTL cache of remote mailbox
// answers for every imap process of the machine, answering the protocol of
// directory_protocol.h on the connections its Dovecot glue hands over.
//
// - A cached answer is sent at once, with its age, so the session refreshes
//   it cache_ttl after LDAP gave it: a directory change reaches every
//   session within cache_ttl, as with a per-process directory.
// - Found answers live cache_ttl, not-found answers negative_cache_ttl;
//   unavailable is never cached (the next request asks LDAP again); at most
//   cache_size users and cache_max_bytes of answers, least recently used
//   evicted (an answer larger than cache_max_bytes is passed on, not kept).
//   The cache keeps each answer already encoded, so a hit costs one copy of
//   bytes.
// - Concurrent requests for one user share one LDAP lookup.
// - PREFETCH (from the auth process at a successful local login) starts the
//   user's lookup early, unless the answer is cached or under way; the imap
//   process's LOOKUP joins it.  An answer that nobody waited for and that
//   the cache does not keep (cache_size = 0, larger than cache_max_bytes)
//   is held for that one LOOKUP, at most kPrefetchHoldMs: the session still
//   gets what the directory said at its login.  At most
//   kMaxPrefetchLookups prefetched lookups run at once; more are dropped.
//
// No Dovecot include and no blocking call: the glue watches each
// connection's descriptor (the watch callback says what to watch) and
// the Directory's event descriptor, and calls back here.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "directory.h"
#include "directory_protocol.h"
#include "remote_mailbox_cache_file.h"
#include "socket_channel.h"
#include "ttl_cache.h"

namespace dref {

struct DirectoryServiceStats {
    uint64_t requests = 0;
    uint64_t cacheHits = 0;
    uint64_t directoryLookups = 0;  // LDAP lookups started (shared by coalesced requests)
    uint64_t protocolErrors = 0;
    uint64_t prefetches = 0;          // PREFETCH requests received
    uint64_t prefetchLookups = 0;     // of those, LDAP lookups started
    uint64_t prefetchesDropped = 0;   // over kMaxPrefetchLookups
    uint64_t prefetchJoins = 0;       // LOOKUPs that joined a prefetched lookup
    uint64_t prefetchHeldHits = 0;    // LOOKUPs answered from a held prefetched answer
    size_t connections = 0;
    size_t cacheEntries = 0;
    size_t cacheBytes = 0;  // counted as cache_max_bytes counts them
};

class DirectoryService {
public:
    enum class LogLevel { Debug, Info, Warning, Error };
    using LogFn = std::function<void(LogLevel, const std::string&)>;
    // Watch `fd` for reading (always, while it is open) and for writing when
    // wantWrite; open == false: the connection is gone and fd is closed
    // (remove the watch, count the client as gone).
    using WatchFn = std::function<void(int fd, bool open, bool wantWrite)>;

    DirectoryService(Directory& directory, const Settings& settings, LogFn log, WatchFn watch);
    ~DirectoryService();

    // Takes a client connection's descriptor; sends VERSION.
    void addConnection(int fd);
    void onReadable(int fd);
    void onWritable(int fd);
    void closeAll();

    const std::string& identity() const { return identity_; }
    DirectoryServiceStats stats() const;

private:
    struct Connection {
        uint64_t serial = 0;
        std::unique_ptr<SocketChannel> channel;
        ProtocolReader reader{ProtocolReader::Peer::Client, 0};
        bool versionSeen = false;
        size_t outstanding = 0;
        bool wantWrite = false;
    };
    struct Waiter {
        uint64_t connSerial;
        uint64_t requestId;
    };
    struct InFlight {
        uint64_t lookupId = 0;
        bool prefetched = false;  // started by a PREFETCH
        std::vector<Waiter> waiters;
    };
    struct CachedAnswer {
        ServiceAnswerStatus status = ServiceAnswerStatus::Found;
        std::string payload;
        TtlCache<int>::Clock::time_point fetchedAt;
    };

    void handle(Connection& c, ProtocolMessage&& m);
    void prefetch(const std::string& user);
    void onAnswer(const std::string& user, MailboxLookupResult&& result);
    void send(Connection& c, const std::string& bytes);
    // An answer's ANSWER line and payload, the payload written from `a`.
    void sendAnswer(Connection& c, uint64_t id, const CachedAnswer& a, int64_t ageMs);
    void drop(Connection& c, const std::string& why, LogLevel level);
    void updateWatch(Connection& c);
    Connection* bySerial(uint64_t serial);

    Directory& directory_;
    const Settings& settings_;
    LogFn log_;
    WatchFn watch_;
    std::string identity_;
    MailboxCacheLimits limits_;
    std::unordered_map<int, std::unique_ptr<Connection>> byFd_;
    std::unordered_map<uint64_t, int> fdBySerial_;
    uint64_t nextSerial_ = 1;
    std::unordered_map<std::string, InFlight> inFlight_;
    TtlCache<CachedAnswer> cache_;
    // Prefetched answers nobody has asked for yet that cache_ does not keep.
    TtlCache<CachedAnswer> held_;
    size_t prefetchLookups_ = 0;  // prefetched lookups under way
    DirectoryServiceStats stats_;
};

// Most requests one connection may have outstanding; one imap process has
// one per session, so more is a broken or hostile peer.
constexpr size_t kDirectoryServiceMaxOutstanding = 256;
// Prefetched lookups under way at once (a burst of logins larger than this
// is served by the imap processes' LOOKUPs as without prefetching).
constexpr size_t kMaxPrefetchLookups = 64;
// How long, and how many, prefetched answers wait for their LOOKUP when the
// cache does not keep them: a session starts milliseconds after its login.
constexpr int kPrefetchHoldMs = 5000;
constexpr size_t kPrefetchHoldMax = 64;

}  // namespace dref
