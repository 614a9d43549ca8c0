#pragma once
// The worker thread's side of the client: owns the Connection, sends the
// queued searches (pipelined), reads results, enforces every request's
// deadline, fails over between URIs and reconnects with exponential backoff.
// It only waits in poll() (bounded) and in Connection::open() (bounded by
// connectTimeoutMs), so a stop request is honoured within those bounds.
//
// With searchOnCallerThread it lends every established connection to the
// caller's thread (SharedState::driver): from then until the caller gives
// it back, the caller's thread calls the "caller's turn" members below and
// the worker thread touches none of this object's state, it only waits for
// the connection to come back or for the stop request.  The hand-over in
// either direction happens under the shared mutex.
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

    // The caller's turn (searchOnCallerThread): only between taking the
    // connection (driver Caller seen under the mutex) and giving it back.
    // beginCallerTurn() also takes what was queued for the worker meanwhile.
    void beginCallerTurn(std::vector<SubmittedSearch>&& submitted, std::vector<uint64_t>&& cancelled);
    // Afterwards the connection is lost; the pending searches stay, for the
    // worker to send again once it has reconnected.
    void endCallerTurn() { callerTurn_ = false; }
    void addSearch(SubmittedSearch&& search);
    void cancelSearch(uint64_t id);
    void sendUnsent();
    void readConnection();
    void expire(Clock::time_point now);
    // The caller cannot use the connection: dropped as a lost one.
    void loseConnection(const std::string& reason) { dropConnection(reason, false); }
    bool connected() const { return conn_ != nullptr; }
    int connectionFd() const { return conn_ ? conn_->fd() : -1; }
    // readConnection() stopped at its batch limit: call it again.
    bool moreBuffered() const { return moreBuffered_; }
    bool hasPending() const { return !pending_.empty(); }
    Clock::time_point earliestDeadline() const;
    // The searches finished during the caller's turn, for its process().
    std::vector<Completion> takeFinished() { return std::move(finished_); }

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
    void merge(std::vector<SubmittedSearch>&& submitted, std::vector<uint64_t>&& cancelled);
    void lendToCaller();
    void waitForReturn();
    void connectRound();
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
    // The connection is lent to the caller (worker thread's view, updated
    // by pullShared()).
    bool lent_ = false;
    // The caller's thread drives this object: complete() keeps the results
    // in finished_ instead of queueing them for the caller.
    bool callerTurn_ = false;
    std::vector<Completion> finished_;
};

}  // namespace dref::ldap
