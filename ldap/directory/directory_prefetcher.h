#pragma once
// The auth process's side of the referral-directory service's PREFETCH
// (directory_protocol.h, docs/directory-service.md §6): when the referral
// passdb has decided that a user who gave the right password is served on
// this machine, it tells the service to start that user's remote mailbox
// lookup now, so that the directory works while Dovecot answers the login
// and starts the imap process, whose LOOKUP then joins it.
//
// A hint, never a dependency of the login: nothing here blocks (the connect
// of a UNIX socket completes or fails at once, the socket is non-blocking),
// nothing waits for an answer (the service sends none), and every failure
// drops the hint: a missing or refusing socket, a full queue (more than
// kPrefetchMaxQueuedBytes not yet taken by the socket), a broken
// connection.  After a failure to connect no new attempt is made for
// retryAfter, so a service that is down costs one failed connect() per
// retryAfter, not one per login.  The connection is kept open between
// logins (one per auth process) and reopened when the service closes it.
// No Dovecot include: the glue watches fd() on the auth process's ioloop.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "directory_protocol.h"
#include "watched_service_connection.h"

namespace dref {

// Prefetch lines queued in this process when the service does not read:
// about 300 logins' worth; then hints are dropped until it reads again.
constexpr size_t kPrefetchMaxQueuedBytes = 16384;

struct PrefetcherStats {
    uint64_t sent = 0;     // PREFETCH lines handed to the socket (or its queue)
    uint64_t dropped = 0;  // hints dropped (no service, refused, queue full, broken)
    uint64_t connects = 0; // connections opened
};

class DirectoryPrefetcher {
public:
    using Clock = std::chrono::steady_clock;
    using WatchFn = WatchedServiceConnection::WatchFn;
    // One line for the debug log (the glue decides whether it is written).
    using LogFn = std::function<void(const std::string&)>;

    DirectoryPrefetcher(std::string socketPath, std::string identity, WatchFn watch, LogFn debug,
                        Clock::duration retryAfter = std::chrono::seconds(1));
    ~DirectoryPrefetcher();
    DirectoryPrefetcher(const DirectoryPrefetcher&) = delete;
    DirectoryPrefetcher& operator=(const DirectoryPrefetcher&) = delete;

    // Sends the hint for `user`, or drops it (logged).  True when sent or
    // queued.  `now` is for the reconnect pause (tests pass their own).
    bool prefetch(const std::string& user, Clock::time_point now = Clock::now());

    void onReadable();
    void onWritable();

    const std::string& socketPath() const { return path_; }
    PrefetcherStats stats() const { return stats_; }

private:
    bool connect(Clock::time_point now);
    void disconnect(const std::string& why);

    std::string path_;
    std::string identity_;
    LogFn debug_;
    Clock::duration retryAfter_;
    Clock::time_point noConnectBefore_{};
    WatchedServiceConnection connection_;
    PrefetcherStats stats_;
};

}  // namespace dref
