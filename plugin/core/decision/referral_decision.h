#pragma once
// The referral decision: a pure function of the directory record, the facts
// about the client and the settings (ARCHITECTURE.md §3).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "home_server.h"
#include "protocol.h"
#include "referral_policy.h"

namespace dref {

struct ClientFacts {
    std::string loginUser;     // the name the user authenticated as
    std::string clientIdName;  // IMAP ID "name", empty when the client sent none
    std::string localIp;       // listener address the client connected to
    uint16_t localPort = 0;    // listener port
    bool secured = false;      // TLS or a trusted local connection
    // The service the request is for (Dovecot's service/protocol name):
    // only IMAP is ever referred (docs/protocols.md).
    Protocol protocol = Protocol::Imap;
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
    // allowed_hosts: the hosts a referral or the proxy may send a user to
    // (REQUIREMENTS §2.6 item 3, RFC 5092 §3.2): shell-style globs matched
    // ASCII case-insensitively against the home server's host.  Empty = any
    // valid host name, i.e. whoever can write the directory chooses.
    std::vector<std::string> allowedHosts;
    // default_policy: proxy-suggest serves every client measured (issue 11,
    // docs/login-referrals.md §2.1): the ones that follow referrals move to
    // their home server, all others keep a proxied session.
    ReferralPolicy defaultPolicy = ReferralPolicy::ProxySuggest;
    std::vector<PolicyRule> clientIdRules;   // first match wins
    std::vector<ListenerRule> listenerRules; // first match wins
    bool referInsecure = true;      // false: never refer over a connection without TLS
    ReferralPolicy insecureFallback = ReferralPolicy::Proxy;
    bool notFoundIsLocal = true;    // user not in the directory: log in locally
    // The home server's port for the protocols other than IMAP
    // (home_pop3_port, home_lmtp_port, ...).  IMAP keeps record.home's port.
    ProtocolPorts ports;
};

enum class DecisionKind { Local, Refer, Suggest, Proxy, ProxySuggest, TempFail, Reject };

struct Decision {
    DecisionKind kind = DecisionKind::Local;
    HomeServer target;       // Refer/Suggest/Proxy/ProxySuggest
    std::string targetUser;  // user for the URL / proxy destuser
    // Which input chose the policy: "user", "client-id", "listener", "default",
    // "insecure", "self", "not-found", "no-home", "not-allowed", "directory",
    // "protocol".
    std::string source;
    // The policy step 4 chose, before step 4a or 7 changed it (decisionWhy()
    // names it when the protocol made it proxy); Local before step 4.
    ReferralPolicy chosenPolicy = ReferralPolicy::Local;
};

// Precedence: a home that is this server -> Local; then the user's directory
// policy, then the first matching client-ID rule, then the first matching
// listener rule, then the default.  Unavailable -> TempFail.  A found user
// whose home server is missing or invalid -> Reject (a clean NO, never a URL)
// unless the chosen policy is Local.
//
// In full, in this order:
//  0. client.protocol Other (a service that opens no session here, e.g.
//     Postfix's SASL "smtp") -> Local (source "protocol"), whatever the
//     directory says: the password was checked, there is nothing to route.
//  1. status Unavailable -> TempFail (source "directory").
//  2. status NotFound -> Local when settings.notFoundIsLocal, else Reject
//     (source "not-found").
//  3. record.home is this server (isThisServer) -> Local (source "self"),
//     whatever the policies say (R2221-3, R2193-3, D-11).
//  4. policy = record.policy ("user"), else the first client-ID rule whose
//     glob matches client.clientIdName ("client-id"; an empty name is matched
//     like any other text, so only "*" matches it), else the first listener
//     rule matching client.localIp/localPort ("listener"; "*" = any address,
//     port 0 = any port, "::ffff:a.b.c.d" equals "a.b.c.d"), else
//     settings.defaultPolicy ("default").
//  4a. client.protocol is not IMAP and policy is not Local -> Proxy (source
//     unchanged): POP3, LMTP, ManageSieve, submission and doveadm have no
//     login referral a client follows, so refer, suggest and every other
//     IMAP-only policy reach the home server through the proxy
//     (docs/protocols.md).  Step 7 then never applies to them.
//  5. policy Local -> Local.
//  6. no record.home -> Reject (source "no-home", why names homeError) (D-17).
//  6a. record.home not allowed by settings.allowedHosts -> Reject (source
//     "not-allowed"): neither a referral nor the proxy (which would hand the
//     user's password to that host) goes to a host the site did not list.
//  7. policy Refer/Suggest/ProxySuggest (each carries a referral) on a
//     connection that is not secured while referInsecure is false ->
//     insecureFallback (source "insecure"): Proxy -> Proxy, Local -> Local,
//     a policy that carries a referral -> Reject.
//  8. Refer -> Refer, Suggest -> Suggest, Proxy -> Proxy, ProxySuggest ->
//     ProxySuggest; target = *record.home.
// Always: targetUser = record.referralUser if set, else client.loginUser
// (D-18); target = *record.home when there is one, with, outside IMAP, the
// port of settings.ports for client.protocol (0 for doveadm by default: no
// port field).  Step 3 compares record.home (host and IMAP port) with
// localNames for every protocol: the home server is one machine.
//
// R2221-15 ("MUST NOT give a login referral if authentication for that user
// fails") is the caller's job: call decide() only after the password or SASL
// exchange succeeded.  D-11's "resolved addresses" are the caller's job too:
// put every name and address of this server into localNames (DNS is not
// consulted here).  Never throws; out of memory gives TempFail.
//
// The decision has no text: a warm login writes no decision line, and its
// text is built by decisionWhy() only for a line that is written.
Decision decide(LookupStatus status, const UserRecord& record, const ClientFacts& client,
                const DecisionSettings& settings);

// Why decide() decided `d` for these inputs (the same record and client),
// in one line for the log: printable ASCII, directory values quoted
// (quoteForLog), never a password.
std::string decisionWhy(const Decision& d, const UserRecord& record, const ClientFacts& client);

// True when host[:port] names this server per settings.localNames: entries
// "host" (any port), "host:port", "[v6]", "[v6]:port" or a bare IPv6 address;
// host names compare ASCII case-insensitively and ignore a trailing dot.
// Malformed entries never match.
bool isThisServer(const HomeServer& home, const std::vector<std::string>& localNames);

// True when `host` may be the target of a referral or of the proxy: the list
// is empty, or one of its globs matches the host (ASCII case-insensitive; a
// trailing dot of the host is ignored).
bool isAllowedTarget(std::string_view host, const std::vector<std::string>& allowedHosts);

// "::ffff:192.0.2.1" is how an IPv4 client looks on a dual-stack listener:
// the IPv4 address inside an IPv4-mapped IPv6 address, else `ip` itself.
std::string_view unmapIpv4(std::string_view ip);

const char* decisionKindName(DecisionKind k);

}  // namespace dref
