#include "ldap_worker.h"

#include <fcntl.h>
#include <ldap.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>

namespace dref::ldap {
namespace {

// Upper bound of one poll(): the worker re-checks the stop flag at least
// this often even when nothing at all happens.
constexpr int kMaxPollMs = 1000;
// A connection lost sooner than this after it was opened counts as a failed
// attempt (backoff applies), so a server that accepts and immediately drops
// connections cannot make the worker spin.
constexpr auto kMinHealthyLifetime = std::chrono::seconds(1);

int64_t usBetween(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

int msUntil(Clock::time_point now, Clock::time_point t) {
    if (t <= now) return 0;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count() + 1;
    return static_cast<int>(std::min<int64_t>(ms, kMaxPollMs));
}

}  // namespace

Worker::Worker(std::shared_ptr<SharedState> shared)
    : shared_(std::move(shared)),
      settings_(shared_->settings),
      backoffMs_(settings_.backoffMinMs),
      nextAttempt_(Clock::now()) {}

Worker::~Worker() = default;

void Worker::bumpStat(uint64_t ClientStats::*field) {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    ++(shared_->stats.*field);
}

bool Worker::stopRequested() {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    return shared_->stop;
}

bool Worker::pullShared() {
    std::vector<SubmittedSearch> submitted;
    std::vector<uint64_t> cancelled;
    {
        std::lock_guard<std::mutex> lock(shared_->mutex);
        if (shared_->stop) return false;
        lent_ = shared_->driver == Driver::Caller;
        if (lent_) return true;  // nothing here is ours until it comes back
        submitted.swap(shared_->submitted);
        cancelled.swap(shared_->cancelled);
    }
    merge(std::move(submitted), std::move(cancelled));
    return true;
}

void Worker::merge(std::vector<SubmittedSearch>&& submitted, std::vector<uint64_t>&& cancelled) {
    for (auto& s : submitted) addSearch(std::move(s));
    for (uint64_t id : cancelled) cancelSearch(id);
}

void Worker::addSearch(SubmittedSearch&& s) {
    Pending p;
    p.request = std::move(s.request);
    p.submitted = s.submitted;
    p.deadline = s.submitted + std::chrono::milliseconds(settings_.timeoutMs);
    pending_.emplace(s.id, std::move(p));
}

void Worker::cancelSearch(uint64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    if (it->second.msgid >= 0) {
        if (conn_) conn_->abandon(it->second.msgid);
        byMsgid_.erase(it->second.msgid);
    }
    pending_.erase(it);
}

void Worker::beginCallerTurn(std::vector<SubmittedSearch>&& submitted,
                             std::vector<uint64_t>&& cancelled) {
    callerTurn_ = true;
    merge(std::move(submitted), std::move(cancelled));
}

// The caller's event loop must never wait on the connection: made
// non-blocking, as an event loop's own LDAP connection is (libldap then
// keeps a partly read message until the rest arrives, and reports a request
// that the socket does not take as LDAP_BUSY, a lost connection to
// sendSearch).  The connection is dropped, never given back, so it stays so.
void Worker::lendToCaller() {
    const int fd = conn_->fd();
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        dropConnection(conn_->uri() + ": cannot make the connection non-blocking", false);
        return;
    }
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->driver = Driver::Caller;
    lent_ = true;
    // The caller must start watching the connection: answers to what was
    // just sent arrive there.
    shared_->wakeCaller();
}

void Worker::waitForReturn() {
    pollfd wake{shared_->workerWake.fd(), POLLIN, 0};
    if (poll(&wake, 1, kMaxPollMs) > 0) shared_->workerWake.drain();
}

Clock::time_point Worker::earliestDeadline() const {
    Clock::time_point earliest = Clock::time_point::max();
    for (const auto& [id, p] : pending_) earliest = std::min(earliest, p.deadline);
    return earliest;
}

void Worker::complete(uint64_t id, Pending& p, ResultStatus status, std::string error,
                      bool sizeLimitExceeded) {
    SearchResult r;
    r.sizeLimitExceeded = sizeLimitExceeded;
    r.status = status;
    r.error = std::move(error);
    r.entries = std::move(p.entries);
    r.server = conn_ ? conn_->uri() : std::string();
    r.elapsedUs = usBetween(p.submitted, Clock::now());
    if (p.msgid >= 0) byMsgid_.erase(p.msgid);
    if (callerTurn_) {
        finished_.push_back(Completion{id, std::move(r)});
        return;
    }
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->completions.push_back(Completion{id, std::move(r)});
    shared_->wakeCaller();
}

void Worker::expire(Clock::time_point now) {
    bool serverSilent = false;
    for (auto it = pending_.begin(); it != pending_.end();) {
        Pending& p = it->second;
        // Not sent, and every server failed so recently that the next
        // attempt comes after the deadline: no point in waiting for it.
        const bool hopeless = p.msgid < 0 && !conn_ && nextAttempt_ >= p.deadline;
        if (p.deadline > now && !hopeless) {
            ++it;
            continue;
        }
        if (p.msgid >= 0) {
            // Sent but unanswered.  If nothing at all arrived on this
            // connection since the request went out, the server is hung
            // (stopped, overloaded, network gone): drop it below.
            if (lastReceive_ < p.sentAt) serverSilent = true;
            if (conn_) conn_->abandon(p.msgid);
            bumpStat(&ClientStats::timeouts);
            complete(it->first, p,
                     ResultStatus::Timeout,
                     "no answer from " + (conn_ ? conn_->uri() : std::string("server")) + " within " +
                         std::to_string(settings_.timeoutMs) + " ms");
        } else {
            std::string why = !p.lostReason.empty() ? p.lostReason
                              : !lastError_.empty() ? lastError_
                                                    : std::string("not connected");
            complete(it->first, p, ResultStatus::Unavailable, "no LDAP server available: " + why);
        }
        it = pending_.erase(it);
    }
    if (serverSilent && conn_) {
        dropConnection(conn_->uri() + ": server not responding", true);
    }
}

bool Worker::hasUnsent() const {
    for (const auto& [id, p] : pending_) {
        if (p.msgid < 0) return true;
    }
    return false;
}

void Worker::connectRound() {
    const size_t n = settings_.uris.size();
    for (size_t i = 0; i < n; ++i) {
        const size_t idx = (currentUri_ + i) % n;
        if (i > 0) {
            bumpStat(&ClientStats::failovers);
            // Answer whoever ran out of time while the previous URI was tried;
            // stop when nobody is waiting any more.
            expire(Clock::now());
            if (!hasUnsent()) {
                currentUri_ = idx;
                return;
            }
        }
        if (stopRequested()) return;
        bool bound = false;
        std::string error;
        auto conn = Connection::open(settings_.uris[idx], settings_, &bound, &error);
        if (conn) {
            bumpStat(&ClientStats::connects);
            if (bound) bumpStat(&ClientStats::binds);
            conn_ = std::move(conn);
            currentUri_ = idx;
            connectedAt_ = lastReceive_ = Clock::now();
            moreBuffered_ = false;
            lastError_.clear();
            return;
        }
        lastError_ = settings_.uris[idx] + ": " + error;
    }
    // Every URI failed: wait before the next round, longer each time.
    nextAttempt_ = Clock::now() + std::chrono::milliseconds(backoffMs_);
    backoffMs_ = std::min(backoffMs_ * 2, settings_.backoffMaxMs);
}

void Worker::dropConnection(const std::string& reason, bool silent) {
    const bool shortLived = Clock::now() - connectedAt_ < kMinHealthyLifetime;
    conn_.reset();
    moreBuffered_ = false;
    lastError_ = reason;
    // Searches are idempotent: put the ones in flight back in the queue so
    // they are sent again on the next connection (their deadlines still run).
    for (auto& [id, p] : pending_) {
        if (p.msgid >= 0) {
            p.msgid = -1;
            p.entries.clear();
            if (p.request.consumer) p.request.consumer->restart();
            p.lostReason = reason;
        }
    }
    byMsgid_.clear();
    const size_t n = settings_.uris.size();
    if (silent && n > 1) {
        // A hung server keeps accepting TCP connections; try the next one first.
        currentUri_ = (currentUri_ + 1) % n;
        bumpStat(&ClientStats::failovers);
    }
    if (shortLived) {
        nextAttempt_ = Clock::now() + std::chrono::milliseconds(backoffMs_);
        backoffMs_ = std::min(backoffMs_ * 2, settings_.backoffMaxMs);
    } else {
        backoffMs_ = settings_.backoffMinMs;
        nextAttempt_ = Clock::now();
    }
}

void Worker::sendUnsent() {
    for (auto& [id, p] : pending_) {
        if (!conn_) return;
        if (p.msgid >= 0) continue;
        std::string error;
        bool lost = false;
        int msgid = conn_->sendSearch(p.request, settings_.timeoutMs, &error, &lost);
        if (msgid < 0) {
            if (lost) {
                dropConnection(conn_->uri() + ": " + error, false);
                return;
            }
            // The library refused the request itself (e.g. a malformed filter).
            complete(id, p, ResultStatus::Error, error);
            p.msgid = -2;  // marks it for removal below
            continue;
        }
        bumpStat(&ClientStats::searches);
        p.msgid = msgid;
        p.sentAt = Clock::now();
        byMsgid_[msgid] = id;
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
        it = it->second.msgid == -2 ? pending_.erase(it) : std::next(it);
    }
}

void Worker::onEntry(int msgid, Entry&& entry) {
    lastReceive_ = Clock::now();
    auto it = byMsgid_.find(msgid);
    if (it == byMsgid_.end()) return;  // abandoned or cancelled
    Pending& p = pending_[it->second];
    if (p.request.consumer)
        p.request.consumer->take(std::move(entry));
    else
        p.entries.push_back(std::move(entry));
}

void Worker::onSearchDone(int msgid, int rc, std::string&& diagnostic) {
    lastReceive_ = Clock::now();
    auto it = byMsgid_.find(msgid);
    if (it == byMsgid_.end()) return;
    const uint64_t id = it->second;
    auto pit = pending_.find(id);
    if (pit == pending_.end()) {
        byMsgid_.erase(it);
        return;
    }
    ResultStatus status = ResultStatus::Error;
    const bool sizeLimit = (rc == LDAP_SIZELIMIT_EXCEEDED);
    if (rc == LDAP_SUCCESS) {
        status = ResultStatus::Ok;
        diagnostic.clear();
    } else if (rc == LDAP_NO_SUCH_OBJECT) {
        status = ResultStatus::NoSuchObject;
    }
    complete(id, pit->second, status, std::move(diagnostic), sizeLimit);
    pending_.erase(pit);
}

void Worker::readConnection() {
    std::string error;
    auto status = conn_->readAvailable(*this, &error);
    moreBuffered_ = (status == Connection::ReadStatus::More);
    if (status == Connection::ReadStatus::Lost) {
        dropConnection(conn_->uri() + ": connection lost: " + error, false);
    }
}

int Worker::pollTimeoutMs(Clock::time_point now) const {
    if (moreBuffered_) return 0;
    Clock::time_point wake = now + std::chrono::milliseconds(kMaxPollMs);
    for (const auto& [id, p] : pending_) wake = std::min(wake, p.deadline);
    if (!conn_ && hasUnsent()) wake = std::min(wake, nextAttempt_);
    return msUntil(now, wake);
}

void Worker::run() noexcept {
    try {
        while (pullShared()) {
            if (lent_) {
                waitForReturn();
                continue;
            }
            expire(Clock::now());
            if (!conn_ && hasUnsent() && Clock::now() >= nextAttempt_) connectRound();
            if (conn_) sendUnsent();
            if (conn_ && settings_.searchOnCallerThread) {
                lendToCaller();
                continue;
            }

            pollfd fds[2];
            fds[0] = {shared_->workerWake.fd(), POLLIN, 0};
            nfds_t nfds = 1;
            if (conn_) fds[nfds++] = {conn_->fd(), POLLIN, 0};
            int rc = poll(fds, nfds, pollTimeoutMs(Clock::now()));
            if (rc < 0 && errno != EINTR) continue;
            if (fds[0].revents != 0) shared_->workerWake.drain();
            // Read even without a readable socket when libldap still holds
            // buffered data (TLS records decrypted ahead of the last read).
            if (conn_ && (moreBuffered_ || (nfds > 1 && fds[1].revents != 0))) readConnection();
        }
    } catch (...) {
        // Only allocation failures can get here (never while the connection
        // is lent: then the worker only waits).  Fail everything still
        // queued rather than leave callers waiting forever; later searches
        // are failed by the caller's side (workerFailed).
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            shared_->workerFailed = true;
        }
        pullShared();
        for (auto& [id, p] : pending_) {
            try {
                complete(id, p, ResultStatus::Unavailable, "LDAP worker failed");
            } catch (...) {
            }
        }
        pending_.clear();
    }
    conn_.reset();
}

}  // namespace dref::ldap
