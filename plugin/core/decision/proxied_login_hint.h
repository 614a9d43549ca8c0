#pragma once
// Policy proxy-suggest (issue 11): the session is proxied to the home server
// as with `proxy`, and the client's tagged OK to its LOGIN / AUTHENTICATE
// carries the referral (RFC 2221 §4.1, R2221-10).  The passdb marks such a
// login with one extra field next to Dovecot's proxy fields; imap-login's
// proxy hands the home server's reply to its login to the login plugin,
// which rewrites it with the functions here.  No Dovecot include.
#include <string>
#include <string_view>

namespace dref {

// The passdb extra field (value "y") that asks the login plugin for the hint
// on a proxied login.  Not "proxy_*" (Dovecot 2.4 parses those itself) nor
// "forward_*" (sent on to the home server).
constexpr const char* kProxyHintField = "referral_hint";

// The home server's tagged OK to the proxy's login, after "<tag> OK ".
struct BackendLoginOk {
    // The home server's capabilities after login, from its
    // "[CAPABILITY ...]" response code; empty when it sent none (then the
    // ones imap-login learnt before the login are the ones to announce).
    bool hasCapability = false;
    std::string capability;
    // resp-text after the response code (the whole text when there is no
    // code; any other code is dropped: a response has one code, and ours is
    // REFERRAL).
    std::string text;
};

// Splits what follows "OK " in the home server's reply.  "[CAPABILITY "
// compares ASCII case-insensitively, as imap-login's own reading of it
// (client_send_login_reply); a "[" without "]" is text.  Never throws
// except std::bad_alloc.
BackendLoginOk parseBackendLoginOk(std::string_view afterOk);

// The line imap-login gets instead of the home server's: "OK [<code>] <text>"
// after the proxy's own tag and a space ("L OK [REFERRAL imap://...] text"),
// which imap-login then completes with the client's tag.
std::string hintedBackendLoginOk(std::string_view tagPrefix, std::string_view code,
                                 std::string_view text);

}  // namespace dref
