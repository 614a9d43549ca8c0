#pragma once
// A home server's login referral to a login that the front proxies
// (docs/dovecot-2.4.md, "2.4's proxy and referrals").
//
// Dovecot 2.4's imap-login follows such a referral itself: it reconnects to
// the URL's address with the client's credentials, without asking the auth
// process.  The front must then send the user only where a directory answer
// could have sent her (allowed_hosts, never this server), or its password
// goes to a host the site did not list, or the front proxies to itself in a
// loop.  This is the decision; the login plugin's glue applies it.
#include <cstdint>
#include <string>
#include <string_view>

#include "referral_decision.h"

namespace dref {

enum class BackendReferralVerdict {
    NotReferral,  // no "NO [REFERRAL ...]": leave the line alone
    Follow,       // a referral the front may follow: leave the line alone
    Refuse,       // a referral the front must not follow: replace the line
};

struct BackendReferralCheck {
    BackendReferralVerdict verdict = BackendReferralVerdict::NotReferral;
    std::string host;   // the URL's host, when one was parsed
    uint16_t port = 0;  // the port the redirect would use (the URL's, else defaultPort)
    // Why a referral is refused, one line for the log; untrusted parts are
    // quoted with quoteForLog.  Empty unless verdict is Refuse.
    std::string why;
};

// Where the front is, for the "this server" test.
struct FrontFacts {
    std::string listenerIp;    // address the client connected to ("" = unknown)
    uint16_t defaultPort = 0;  // port of the current backend: a URL without one keeps it
};

// Classifies the backend's tagged reply to the proxy's LOGIN/AUTHENTICATE,
// given WITHOUT the tag ("NO [REFERRAL imap://...] text").  A referral is a
// NO (any case) whose first response code is REFERRAL (any case).
//
// Follow only when the code holds exactly one URL that parseImapUrl()
// accepts (so never an IPv6 literal, CR/LF, controls, an empty or relative
// URL), whose authority splits into user and host the same way for any RFC
// 3986 parser (Dovecot's included), whose host is allowed by
// isAllowedTarget(settings.allowedHosts), and which is not this server:
// neither isThisServer(settings.localNames) with the port the redirect would
// use, nor the listener address (any port; "::ffff:a.b.c.d" is a.b.c.d).
// Every other referral is Refuse: the front cannot tell where Dovecot would
// go, so it goes nowhere.  Never throws; out of memory gives Refuse.
BackendReferralCheck checkBackendLoginReferral(std::string_view reply,
                                               const DecisionSettings& settings,
                                               const FrontFacts& front);

// What the client gets instead of a refused referral (the same words as a
// directory home outside allowed_hosts, docs/security.md).
constexpr const char* kBackendReferralRefusedCode = "CONTACTADMIN";
constexpr const char* kBackendReferralRefusedText =
    "Your mailbox cannot be reached from this server.";

}  // namespace dref
