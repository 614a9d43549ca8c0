#pragma once
// The wire text of the login plugin, with no Dovecot include: what a login
// referral and a drain-mode greeting look like (RFC 2221 §4, RFC 5092,
// REQUIREMENTS.md D-2, D-3, D-4, D-12, D-16, D-17).  The glue in
// login_client.cpp only feeds Dovecot's state into these functions and writes
// their result with imap-login's own reply functions.
#include <cstdint>
#include <string>

#include "settings.h"

namespace dref {

// Which pre-login command authenticated: RFC 2221's examples use ";AUTH=*"
// after LOGIN; after AUTHENTICATE the mechanism may be named (D-3).
enum class LoginCommand { Login, Authenticate };

struct LoginReferralFacts {
    LoginCommand command = LoginCommand::Login;
    std::string mechanism;  // SASL mechanism Dovecot ran ("PLAIN" for LOGIN)
    std::string user;       // identity the home server knows (passdb destuser)
    std::string host;       // passdb "host": untrusted until validated here
    uint16_t port = 143;    // passdb "port"
    std::string reason;     // passdb "reason"; empty = settings' referral_text
};

struct LoginReply {
    // true: `code` is "REFERRAL <url>"; false: no URL could be written and
    // `code` is "UNAVAILABLE" (never a URL with an empty or hostile host).
    bool referral = false;
    std::string code;
    std::string url;   // the referral URL alone (empty when !referral)
    std::string text;  // resp-text after "] ": 7-bit, no CR/LF, never empty
    std::string log;   // one line for the log; untrusted parts quoted
};

// The response code and text for a tagged login referral.
LoginReply composeLoginReferral(const LoginReferralFacts& facts, const LoginSettings& settings);

// Who, how and where of a login, for the referral's log line (R2221-16:
// user, command and target).  Plain values as imap-login has them; the
// line quotes them.
struct LoginLogFacts {
    std::string user;       // the login name ("" before authentication)
    LoginCommand command = LoginCommand::Login;
    std::string mechanism;  // SASL mechanism Dovecot ran
    std::string remoteIp;
    std::string localIp;
    std::string session;    // Dovecot's session id
};

// "<message>: user=<U>, command=C, method=M, rip=R, lip=L, session=<S>":
// the items of Dovecot's default login_log_format_elements plus the
// command, written here rather than by Dovecot's client log prefix, whose
// expansion of login_log_format_elements costs imap-login more than the
// rest of a warm referral login (docs/benchmarks.md, issue 13).  The user
// name and the other values are quoted (\xHH), so they cannot forge lines.
std::string loginLogLine(const std::string& message, const LoginLogFacts& facts);

// "* BYE [REFERRAL imap://;AUTH=*@<drain_host>[:port]/] <drain_text>\r\n"
// (R2221-13: no user is known before login, so the URL carries ";AUTH=*"
// only, D-2/D-16).  Empty string and *error set when drain_host is not a
// host name a referral may carry.
std::string composeDrainGreeting(const LoginSettings& settings, std::string* error);

}  // namespace dref
