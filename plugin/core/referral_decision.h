#pragma once
// The referral decision: a pure function of the directory record, the facts
// about the client and the settings (ARCHITECTURE.md §3).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "home_server.h"
#include "referral_policy.h"

namespace dref {

struct ClientFacts {
    std::string loginUser;     // the name the user authenticated as
    std::string clientIdName;  // IMAP ID "name", empty when the client sent none
    std::string localIp;       // listener address the client connected to
    uint16_t localPort = 0;    // listener port
    bool secured = false;      // TLS or a trusted local connection
};

// Outcome of the directory lookup, as the decision sees it.
enum class LookupStatus { Found, NotFound, Unavailable };

struct PolicyRule {
    std::string pattern;  // shell-style glob (* ?), ASCII case-insensitive
    ReferralPolicy policy;
};

struct ListenerRule {
    std::string address;  // IP or "*"
    uint16_t port = 0;    // 0 = any port
    ReferralPolicy policy;
};

struct DecisionSettings {
    // Names and addresses of this server: a home server equal to one of them
    // is served locally, never referred (R2221-3, R2193-3, D-11).  Entries are
    // "host" (any port) or "host:port".
    std::vector<std::string> localNames;
    ReferralPolicy defaultPolicy = ReferralPolicy::Proxy;
    std::vector<PolicyRule> clientIdRules;   // first match wins
    std::vector<ListenerRule> listenerRules; // first match wins
    bool referInsecure = true;      // false: never refer over a connection without TLS
    ReferralPolicy insecureFallback = ReferralPolicy::Proxy;
    bool notFoundIsLocal = true;    // user not in the directory: log in locally
};

enum class DecisionKind { Local, Refer, Suggest, Proxy, TempFail, Reject };

struct Decision {
    DecisionKind kind = DecisionKind::Local;
    HomeServer target;       // Refer/Suggest/Proxy
    std::string targetUser;  // user for the URL / proxy destuser
    std::string why;         // one line for the log; never contains a password
    // Which input chose the policy: "user", "client-id", "listener", "default",
    // "insecure", "self", "not-found", "no-home", "directory".
    std::string source;
};

// Precedence: a home that is this server -> Local; then the user's directory
// policy, then the first matching client-ID rule, then the first matching
// listener rule, then the default.  Unavailable -> TempFail.  A found user
// whose home server is missing or invalid -> Reject (a clean NO, never a URL)
// unless the chosen policy is Local.
Decision decide(LookupStatus status, const UserRecord& record, const ClientFacts& client,
                const DecisionSettings& settings);

// True when host[:port] names this server per settings.localNames.
bool isThisServer(const HomeServer& home, const std::vector<std::string>& localNames);

const char* decisionKindName(DecisionKind k);

}  // namespace dref
