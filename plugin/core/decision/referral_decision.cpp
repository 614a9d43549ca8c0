#include "referral_decision.h"
#include "ascii.h"

#include <cstdlib>
#include <string_view>

#include "glob_match.h"
#include "response_text.h"

namespace dref {

namespace {

// DNS names and IPv6 hex compare case-insensitively; "host." is "host".
bool sameHost(std::string_view a, std::string_view b) {
    if (!a.empty() && a.back() == '.') a.remove_suffix(1);
    if (!b.empty() && b.back() == '.') b.remove_suffix(1);
    if (a.size() != b.size() || a.empty()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (asciiLower(a[i]) != asciiLower(b[i])) return false;
    }
    return true;
}

bool parsePort(std::string_view s, uint16_t* port) {
    if (s.empty() || s.size() > 5) return false;
    unsigned long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (v < 1 || v > 65535) return false;
    *port = static_cast<uint16_t>(v);
    return true;
}

// Splits "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address
// (two or more colons, no port).  *port = 0 when none is given.
bool splitHostPort(std::string_view entry, std::string_view* host, uint16_t* port) {
    *port = 0;
    if (!entry.empty() && entry.front() == '[') {
        const size_t close = entry.find(']');
        if (close == std::string_view::npos) return false;
        *host = entry.substr(1, close - 1);
        const std::string_view rest = entry.substr(close + 1);
        if (rest.empty()) return !host->empty();
        return rest.front() == ':' && parsePort(rest.substr(1), port) && !host->empty();
    }
    const size_t colon = entry.find(':');
    if (colon == std::string_view::npos || entry.find(':', colon + 1) != std::string_view::npos) {
        *host = entry;
        return !entry.empty();
    }
    *host = entry.substr(0, colon);
    return !host->empty() && parsePort(entry.substr(colon + 1), port);
}

}  // namespace

std::string_view unmapIpv4(std::string_view ip) {
    constexpr std::string_view kMapped = "::ffff:";
    if (ip.size() > kMapped.size() && sameHost(ip.substr(0, kMapped.size()), kMapped) &&
        ip.find('.') != std::string_view::npos)
        return ip.substr(kMapped.size());
    return ip;
}

namespace {

bool listenerMatches(const ListenerRule& rule, const ClientFacts& client) {
    if (rule.port != 0 && rule.port != client.localPort) return false;
    if (rule.address == "*") return true;
    return sameHost(unmapIpv4(rule.address), unmapIpv4(client.localIp));
}

// The policies whose answer names the home server to the client.
bool carriesReferral(ReferralPolicy p) {
    return p == ReferralPolicy::Refer || p == ReferralPolicy::Suggest ||
           p == ReferralPolicy::ProxySuggest;
}

std::string hostPort(const HomeServer& home) {
    if (home.port == 0) return quoteForLog(home.host);
    return quoteForLog(home.host) + ":" + std::to_string(home.port);
}

Decision decideImpl(LookupStatus status, const UserRecord& record, const ClientFacts& client,
                    const DecisionSettings& settings) {
    Decision d;
    // D-18: the URL and the proxy carry the identity the home server knows.
    d.targetUser = record.referralUser.empty() ? client.loginUser : record.referralUser;
    if (record.home) {
        d.target = *record.home;
        if (client.protocol != Protocol::Imap)
            d.target.port = protocolPort(settings.ports, client.protocol);
    }

    if (client.protocol == Protocol::Other) {
        d.kind = DecisionKind::Local;
        d.source = "protocol";
        return d;
    }
    if (status == LookupStatus::Unavailable) {
        d.kind = DecisionKind::TempFail;
        d.source = "directory";
        return d;
    }
    if (status == LookupStatus::NotFound) {
        d.source = "not-found";
        d.kind = settings.notFoundIsLocal ? DecisionKind::Local : DecisionKind::Reject;
        return d;
    }

    // R2221-3, R2193-3, D-11: a home that is this server is served here,
    // whatever any policy says, so no configuration can build a loop.
    if (record.home && isThisServer(*record.home, settings.localNames)) {
        d.kind = DecisionKind::Local;
        d.source = "self";
        return d;
    }

    ReferralPolicy policy = settings.defaultPolicy;
    d.source = "default";
    if (record.policy) {
        policy = *record.policy;
        d.source = "user";
    } else {
        bool chosen = false;
        for (const auto& rule : settings.clientIdRules) {
            if (globMatch(rule.pattern, client.clientIdName)) {
                policy = rule.policy;
                d.source = "client-id";
                chosen = true;
                break;
            }
        }
        for (size_t i = 0; !chosen && i < settings.listenerRules.size(); ++i) {
            if (listenerMatches(settings.listenerRules[i], client)) {
                policy = settings.listenerRules[i].policy;
                d.source = "listener";
                chosen = true;
            }
        }
    }
    d.chosenPolicy = policy;

    if (policy == ReferralPolicy::Local) {
        d.kind = DecisionKind::Local;
        return d;
    }
    // Only IMAP has a login referral (RFC 2221): any other policy sends a
    // POP3, LMTP, ManageSieve, submission or doveadm session to the home
    // server through Dovecot's proxy (docs/protocols.md).
    if (client.protocol != Protocol::Imap) policy = ReferralPolicy::Proxy;
    // D-17: without a valid home server there is nothing to refer or proxy
    // to; never build "imap://user@/".
    if (!record.home) {
        d.kind = DecisionKind::Reject;
        d.source = "no-home";
        return d;
    }
    if (!isAllowedTarget(record.home->host, settings.allowedHosts)) {
        d.kind = DecisionKind::Reject;
        d.source = "not-allowed";
        return d;
    }
    // RFC 5092 §10 / REQUIREMENTS §2.6 item 5: no referral in clear text
    // unless allowed (proxy-suggest's hint is one); the fallback must not
    // itself be a referral.
    if (carriesReferral(policy) && !client.secured && !settings.referInsecure) {
        policy = settings.insecureFallback;
        d.source = "insecure";
        if (carriesReferral(policy)) {
            d.kind = DecisionKind::Reject;
            return d;
        }
    }

    switch (policy) {
        case ReferralPolicy::Refer: d.kind = DecisionKind::Refer; break;
        case ReferralPolicy::Suggest: d.kind = DecisionKind::Suggest; break;
        case ReferralPolicy::Proxy: d.kind = DecisionKind::Proxy; break;
        case ReferralPolicy::ProxySuggest: d.kind = DecisionKind::ProxySuggest; break;
        case ReferralPolicy::Local: d.kind = DecisionKind::Local; break;
    }
    return d;
}

}  // namespace

bool isThisServer(const HomeServer& home, const std::vector<std::string>& localNames) {
    for (const auto& entry : localNames) {
        std::string_view host;
        uint16_t port = 0;
        if (!splitHostPort(entry, &host, &port)) continue;
        if (port != 0 && port != home.port) continue;
        if (sameHost(host, home.host)) return true;
    }
    return false;
}

bool isAllowedTarget(std::string_view host, const std::vector<std::string>& allowedHosts) {
    if (allowedHosts.empty()) return true;
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.empty()) return false;
    for (const auto& pattern : allowedHosts) {
        if (globMatch(pattern, host)) return true;
    }
    return false;
}

Decision decide(LookupStatus status, const UserRecord& record, const ClientFacts& client,
                const DecisionSettings& settings) {
    try {
        return decideImpl(status, record, client, settings);
    } catch (...) {
        // Out of memory: the one answer that is safe whatever the inputs.
        Decision d;
        d.kind = DecisionKind::TempFail;
        d.source = "directory";
        return d;
    }
}

// Each branch names the step of decide() (referral_decision.h) that ended
// with `d`: the source tells the step, the kind its outcome.
std::string decisionWhy(const Decision& d, const UserRecord& record, const ClientFacts& client) {
    const std::string& source = d.source;
    if (source == "protocol") return "not a protocol with a home server session: authentication only";
    if (source == "directory") return "directory unavailable";
    if (source == "not-found")
        return d.kind == DecisionKind::Local ? "user not in the directory: local login"
                                             : "user not in the directory";
    // Step 3 compares the directory's home (its IMAP port), not the target.
    if (source == "self") return "home server " + hostPort(record.home ? *record.home : d.target) + " is this server";
    if (source == "no-home")
        return record.homeError.empty() ? "no home server in the directory"
                                        : "unusable home server: " + quoteForLog(record.homeError);
    if (source == "not-allowed") return "home server " + hostPort(d.target) + " is not in allowed_hosts";
    if (source == "insecure" && d.kind == DecisionKind::Reject) return "no referral over an insecure connection";
    if (source == "insecure" && d.kind == DecisionKind::Local)
        return "insecure connection: local login instead of a referral";
    if (d.kind == DecisionKind::Local) return "policy local (" + source + ")";
    // Refer, Suggest, Proxy or ProxySuggest to the target (the kinds' names
    // are the policies' names).
    std::string why = std::string(decisionKindName(d.kind)) + " to " + hostPort(d.target) + " (" + source;
    if (client.protocol != Protocol::Imap && d.chosenPolicy != ReferralPolicy::Proxy)
        why += std::string("; ") + referralPolicyName(d.chosenPolicy) + " is proxy for " +
               protocolName(client.protocol);
    return why + ")";
}

const char* decisionKindName(DecisionKind k) {
    switch (k) {
        case DecisionKind::Local: return "local";
        case DecisionKind::Refer: return "refer";
        case DecisionKind::Suggest: return "suggest";
        case DecisionKind::Proxy: return "proxy";
        case DecisionKind::ProxySuggest: return "proxy-suggest";
        case DecisionKind::TempFail: return "tempfail";
        case DecisionKind::Reject: return "reject";
    }
    return "unknown";
}

}  // namespace dref
