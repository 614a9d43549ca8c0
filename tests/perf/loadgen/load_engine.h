// The load generator's engine: one thread, one epoll set, a fixed number of
// concurrent IMAP login sessions (connect, greeting, LOGIN or AUTHENTICATE
// PLAIN, classify the tagged reply, LOGOUT after an OK, close).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "reply_class.h"

namespace dref::perf {

struct Account {
    std::string user;
    std::string pass;
    uint32_t expect_mask = 0;   // bit per ReplyClass; 0 = anything is expected
    bool has_source = false;    // bind to this source address before connect
    sockaddr_in source{};
};

enum class Mechanism { Login, Plain };

struct LoadOptions {
    sockaddr_in target{};
    int concurrency = 10;
    uint64_t count = 0;          // sessions to run; 0 = until duration
    double duration_s = 0;       // stop starting sessions after this; 0 = count only
    Mechanism mech = Mechanism::Login;
    std::string local_marker;    // see classifyTagged()
    int timeout_ms = 10000;      // per session, connect to tagged reply
    bool logout = true;          // LOGOUT after an OK reply
    std::vector<Account> accounts;  // used round robin, in order
};

struct SessionResult {
    double end_s;                // completion time since the run started
    uint32_t latency_us;         // connect() to the tagged reply (or to the failure)
    ReplyClass cls;
    uint32_t account;
    bool unexpected;
};

struct LoadReport {
    double elapsed_s = 0;
    std::vector<SessionResult> results;
    std::string examples[kReplyClassCount];  // first reply line seen per class
    std::vector<std::string> unexpected_examples;  // "user: line", first few
};

// Runs the load; returns false (with *error) only for a setup failure
// (epoll, bad options).  Network failures are counted, not errors.
bool runLoad(const LoadOptions& opt, LoadReport* report, std::string* error);

}  // namespace dref::perf
