#pragma once
// The worker thread's side of the client: owns the Connection, sends the
// queued searches (pipelined), reads results, enforces every request's
// deadline, fails over between URIs and reconnects with exponential backoff.
// It only waits in poll() (bounded) and in Connection::open() (bounded by
// connectTimeoutMs), so a stop request is honoured within those bounds.
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "client_shared.h"
#include "ldap_connection.h"

namespace dref::ldap {

class Worker : private MessageSink {
public:
    explicit Worker(std::shared_ptr<SharedState> shared);
    ~Worker() override;
    void run() noexcept;

private:
    struct Pending {
        SearchRequest request;
        Clock::time_point submitted;
        Clock::time_point deadline;
        Clock::time_point sentAt;
        int msgid = -1;  // -1: not (or no longer) on a connection
        std::vector<Entry> entries;
        std::string lostReason;  // why an earlier attempt was dropped
    };

    bool pullShared();  // false when asked to stop
    void expire(Clock::time_point now);
    void connectRound();
    void sendUnsent();
    void readConnection();
    void dropConnection(const std::string& reason, bool silent);
    int pollTimeoutMs(Clock::time_point now) const;
    bool hasUnsent() const;
    bool stopRequested();
    void complete(uint64_t id, Pending& p, ResultStatus status, std::string error,
                  bool sizeLimitExceeded = false);
    void bumpStat(uint64_t ClientStats::*field);

    void onEntry(int msgid, Entry&& entry) override;
    void onSearchDone(int msgid, int rc, std::string&& diagnostic) override;

    std::shared_ptr<SharedState> shared_;
    const ClientSettings& settings_;
    std::unique_ptr<Connection> conn_;
    Clock::time_point connectedAt_;
    Clock::time_point lastReceive_;
    bool moreBuffered_ = false;
    size_t currentUri_ = 0;
    int backoffMs_;
    Clock::time_point nextAttempt_;
    std::string lastError_;
    std::map<uint64_t, Pending> pending_;  // ordered by id = submission order
    std::unordered_map<int, uint64_t> byMsgid_;
};

}  // namespace dref::ldap
