#pragma once
// The wire text of the login plugin, with no Dovecot include: what a login
// referral and a drain-mode greeting look like (RFC 2221 §4, RFC 5092,
// REQUIREMENTS.md D-2, D-3, D-4, D-12, D-16, D-17).  The glue in
// plugin/login/login_client.cpp only feeds Dovecot's state into these
// functions and writes their result with imap-login's own reply functions.
#include <cstdint>
#include <string>
#include <string_view>

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
    // quoted).  A referral is logged as a note on Dovecot's own line
    // (appendReferralNote()).
    std::string error;
    // The referral URL alone, inside `code` (empty when !referral).
    std::string_view url() const;
};

// What every login referral of one settings file shares, prepared once when
// the file is loaded instead of at every login (issue 13 item 3).
struct LoginReplyPresets {
    // wireReferralText(referral_text), as the referral passdb's `reason`.
    std::string referralText;
    bool authMechanismInUrl = false;  // auth_in_url = mechanism
};
// May throw std::bad_alloc.
LoginReplyPresets prepareLoginReply(const LoginSettings& settings);

// The response code and text for a tagged login referral, written into
// *reply.  Its strings are reused: the login plugin keeps one LoginReply per
// process, so a warm referral login allocates nothing here once they are
// large enough (issue 13).  The passdb's `reason` is sanitized unless it is
// the prepared referral_text itself (what the referral passdb sends).  May
// throw std::bad_alloc.
void composeLoginReferral(const LoginReferralFacts& facts, const LoginReplyPresets& presets,
                          LoginReply* reply);

// Appends "; <before>referral <url><after> (<COMMAND> as <login user>)" to
// *out: what the line Dovecot writes for the connection says about each
// referral it was given (R2221-16: user, command, target; the login plugin
// adds it to that line instead of writing a line of its own,
// docs/login-referrals.md §4).  `before` is "" for a NO referral and "OK "
// for an OK one, `after` " (hint on a proxied session)" for the
// proxy-suggest hint.  When the URL's user (`urlUser`) is the login name and
// the URL shows it as it is (no percent-encoding), the note is
// "(<COMMAND>)" alone: the user is the URL's.  Otherwise the login name goes
// through appendLogItemValue(): control and 8-bit octets, `\`, `<`, `>` and
// `,` as \xHH, so that a user name can neither forge a line nor end its
// note.  The line's cost grows with its length (Dovecot formats it with a
// first guess of its size that glibc fills octet by octet beyond it: ~75
// instructions per octet in imap-login and the log process together).  May
// throw std::bad_alloc.
void appendReferralNote(std::string* out, std::string_view before, std::string_view url,
                        std::string_view after, LoginCommand command, std::string_view loginUser,
                        std::string_view urlUser);

// "* BYE [REFERRAL imap://;AUTH=*@<drain_host>[:port]/] <drain_text>\r\n"
// (R2221-13: no user is known before login, so the URL carries ";AUTH=*"
// only, D-2/D-16).  Empty string and *error set when drain_host is not a
// host name a referral may carry.
std::string composeDrainGreeting(const LoginSettings& settings, std::string* error);

}  // namespace dref
