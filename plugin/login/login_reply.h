#pragma once
// The wire text of the login plugin, with no Dovecot include: what a login
// referral and a drain-mode greeting look like (RFC 2221 §4, RFC 5092,
// REQUIREMENTS.md D-2, D-3, D-4, D-12, D-16, D-17).  The glue in
// login_client.cpp only feeds Dovecot's state into these functions and writes
// their result with imap-login's own reply functions.
#include <cstdint>
#include <string>
#include <string_view>

#include "ip_text.h"
#include "settings.h"

namespace dref {

// Which pre-login command authenticated: RFC 2221's examples use ";AUTH=*"
// after LOGIN; after AUTHENTICATE the mechanism may be named (D-3).
enum class LoginCommand { Login, Authenticate };

// Views of imap-login's own strings (or the caller's), valid for the call.
struct LoginReferralFacts {
    LoginCommand command = LoginCommand::Login;
    std::string_view mechanism;  // SASL mechanism Dovecot ran ("PLAIN" for LOGIN)
    std::string_view user;       // identity the home server knows (passdb destuser)
    std::string_view host;       // passdb "host": untrusted until validated here
    uint16_t port = 143;         // passdb "port"
    std::string_view reason;     // passdb "reason"; empty = settings' referral_text
};

struct LoginReply {
    // true: `code` is "REFERRAL <url>"; false: no URL could be written and
    // `code` is "UNAVAILABLE" (never a URL with an empty or hostile host).
    bool referral = false;
    std::string code;
    std::string text;  // resp-text after "] ": 7-bit, no CR/LF, never empty
    // Only when !referral: one line for the log saying why (untrusted parts
    // quoted).  A referral's own line is loginLogLine().
    std::string error;
    // The referral URL alone, inside `code` (empty when !referral).
    std::string_view url() const;
};

// The response code and text for a tagged login referral, written into
// *reply.  Its strings are reused: the login plugin keeps one LoginReply per
// process, so a warm referral login allocates nothing here once they are
// large enough (issue 13).  May throw std::bad_alloc.
void composeLoginReferral(const LoginReferralFacts& facts, const LoginSettings& settings,
                          LoginReply* reply);

// Who, how and where of a login, for the referral's log line (R2221-16:
// user, command and target).  Plain values as imap-login has them (views,
// valid for the call); the line quotes them.
struct LoginLogFacts {
    std::string_view user;       // the login name ("" before authentication)
    LoginCommand command = LoginCommand::Login;
    std::string_view mechanism;  // SASL mechanism Dovecot ran
    IpFamily remoteFamily = IpFamily::None;
    const unsigned char* remoteIp = nullptr;  // 4 or 16 octets, network order
    IpFamily localFamily = IpFamily::None;
    const unsigned char* localIp = nullptr;
    std::string_view session;    // Dovecot's session id
};

// What the line says before the items: `before` "login referral to "
// <url> `after` (before = "OK " for an OK referral, after = " (hint on a
// proxied session)" for the proxy-suggest hint).
struct LoginLogMessage {
    std::string_view before;
    std::string_view url;
    std::string_view after;
};

// Writes into *line (cleared first; its buffer reused, as for
// composeLoginReferral()):
// "<message>: user=<U>, command=C, method=M, rip=R, lip=L, session=<S>",
// the items of Dovecot's default login_log_format_elements plus the
// command, written here rather than by Dovecot's client log prefix, whose
// expansion of login_log_format_elements costs imap-login more than the
// rest of a warm referral login (docs/benchmarks.md, issue 13).  Every
// value goes through appendLogItemValue(): control octets, `\`, `<`, `>`
// and `,` as \xHH, so that a user name can neither forge a line nor an
// item.  May throw std::bad_alloc.
void loginLogLine(std::string* line, const LoginLogMessage& message, const LoginLogFacts& facts);

// Appends "; login referral to <url> (<COMMAND> as <user>)" to *out: what
// the line Dovecot writes when a referred connection ends says about each
// NO referral it was given (R2221-16: user, command, target; the login
// plugin adds it to that line instead of writing a line of its own,
// docs/login-referrals.md §4).  The user is escaped as in loginLogLine().
// May throw std::bad_alloc.
void appendReferralNote(std::string* out, std::string_view url, LoginCommand command,
                        std::string_view user);

// "* BYE [REFERRAL imap://;AUTH=*@<drain_host>[:port]/] <drain_text>\r\n"
// (R2221-13: no user is known before login, so the URL carries ";AUTH=*"
// only, D-2/D-16).  Empty string and *error set when drain_host is not a
// host name a referral may carry.
std::string composeDrainGreeting(const LoginSettings& settings, std::string* error);

}  // namespace dref
