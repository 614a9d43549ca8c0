#pragma once
// What the caller's thread and the worker thread share: the request and
// completion queues, the stop flag, the statistics, who drives the
// connection and the two wake-up descriptors.  Everything but the
// descriptors and the settings is guarded by `mutex`; neither side holds it
// while doing I/O or running callbacks (but for the wake-up descriptor's
// own write and read, see wakeCaller).
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "event_fd.h"
#include "ldap_client.h"

namespace dref::ldap {

using Clock = std::chrono::steady_clock;

struct SubmittedSearch {
    uint64_t id = 0;
    SearchRequest request;
    Clock::time_point submitted;
};

struct Completion {
    uint64_t id = 0;
    SearchResult result;
};

// Which thread works the connection and the pending searches
// (ClientSettings::searchOnCallerThread): the worker always connects; with
// that setting it lends an established connection to the caller's thread,
// which sends, reads and times out the searches itself until the connection
// is lost, and then gives everything back to the worker.  Only the worker
// sets Caller, only the caller sets Worker back.
enum class Driver { Worker, Caller };

struct SharedState {
    explicit SharedState(const ClientSettings& s) : settings(s) {}

    // Makes callerReady readable once until takeCallerWake(); call with
    // `mutex` held.  Under the mutex, so that callerWoken is true exactly
    // while the descriptor is readable: process() then reads it only when
    // there is something, without a system call on every turn.
    void wakeCaller() {
        if (callerWoken) return;
        callerWoken = true;
        callerReady.signal();
    }
    // true: the caller was woken (the descriptor is drained again); call
    // with `mutex` held.
    bool takeCallerWake() {
        if (!callerWoken) return false;
        callerWoken = false;
        callerReady.drain();
        return true;
    }

    const ClientSettings settings;
    std::mutex mutex;
    bool stop = false;
    bool workerFailed = false;  // the worker is gone: fail searches at once
    Driver driver = Driver::Worker;
    std::vector<SubmittedSearch> submitted;  // caller -> worker
    std::vector<uint64_t> cancelled;         // caller -> worker
    std::vector<Completion> completions;     // worker -> caller
    ClientStats stats;
    EventFd workerWake;   // readable: the worker has something to pick up
    EventFd callerReady;  // readable: process() has completions to deliver
    bool callerWoken = false;  // callerReady is readable (wakeCaller)
};

}  // namespace dref::ldap
