#pragma once
// What the caller's thread and the worker thread share: the request and
// completion queues, the stop flag, the statistics and the two wake-up
// descriptors.  Everything but the descriptors and the settings is guarded
// by `mutex`; neither side holds it while doing I/O or running callbacks.
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

struct SharedState {
    explicit SharedState(const ClientSettings& s) : settings(s) {}

    const ClientSettings settings;
    std::mutex mutex;
    bool stop = false;
    bool workerFailed = false;  // the worker is gone: fail searches at once
    std::vector<SubmittedSearch> submitted;  // caller -> worker
    std::vector<uint64_t> cancelled;         // caller -> worker
    std::vector<Completion> completions;     // worker -> caller
    ClientStats stats;
    EventFd workerWake;   // readable: the worker has something to pick up
    EventFd callerReady;  // readable: process() has completions to deliver
};

}  // namespace dref::ldap
