#pragma once
// The plugin's per-client state and its accessors, shared by the referral
// overrides (login_client.cpp) and drain mode (login_drain.cpp).  Glue only:
// includes imap-login's headers (through dovecot_compat.h).
#include <string>
#include <string_view>

#include "dovecot_compat.h"
#include "login_reply.h"
#include "login_settings.h"

namespace dref {

// Allocated zeroed from the client's pool by Dovecot: plain data only.
struct ReferralLoginClient {
    union login_client_module_context module_ctx;  // super vfuncs + register
    // Drain mode.
    struct timeout* to_drain;
    struct io* io_drain;
    unsigned int drain_flush_tries;
    bool draining;
    // The tagged OK [REFERRAL ...] of a local login has been sent; the
    // command must not get a second tagged completion.
    bool ok_referral_sent;
    // The NO referrals given to this connection, "; login referral to ..."
    // each (appendReferralNote()), from the client's pool; the first line
    // Dovecot writes once the client is disconnected carries them, before
    // Dovecot's login_log_format_elements (R2221-16), then they are
    // cleared.  nullptr until the first one.
    string_t* referral_notes;
    // The OK referrals ("; OK login referral to ..."): the login goes on,
    // so the next info line Dovecot writes for the client (its login line)
    // carries them, after Dovecot's whole text, then they are cleared.
    // nullptr until the first one.
    string_t* ok_referral_notes;
    // The message callback of client->event before the plugin's
    // (compat::chainClientLogMessage()), set with referral_notes.
    compat::LogMessageCallback log_message_super;
};

ReferralLoginClient* referralLoginContext(struct client* client);
// The loaded configuration; never null while the hook is registered.
const LoginPluginConfig* referralLoginConfig();

// Event category "referral" (shared with the passdb driver and imap plugin).
struct event_category* referralEventCategory();

// Drain mode (login_drain.cpp): installs v.create, v.input,
// v.notify_auth_ready and v.destroy on the previous vfunc layer `v`.
void installDrainOverrides(struct client_vfuncs* v);

// The filter of the home server's lines to a proxied login
// (login_proxy_referral.cpp), on both versions: the proxy-suggest hint
// (login_proxy_hint.cpp), and on 2.4 only the check of a referral in the
// home server's reply before imap-login follows it
// (compat::proxyFollowsLoginReferrals).
void installProxyLineFilter(struct client_vfuncs* v);

// Policy proxy-suggest (login_proxy_hint.cpp): for the home server's
// "L OK ..." to a login the passdb marked with referral_hint, the line
// imap-login gets instead ("L OK [REFERRAL url] text", data stack), after
// arranging that imap-login writes the home server's capabilities as an
// untagged * CAPABILITY before the client's tagged OK.  nullptr: leave the
// line alone (no marker, not that line, or no usable URL: proxied without
// the hint, logged).  Never throws.
const char* proxiedLoginHint(struct client* client, const char* line) noexcept;

// Shared by the overrides (login_client.cpp).
// The command that is authenticating (LOGIN or AUTHENTICATE).
LoginCommand commandOf(struct client* client);
std::string orEmpty(const char* s);
// A view of a C string of Dovecot's (empty for nullptr), valid as long as it.
std::string_view viewOf(const char* s);
// A passdb extra field of the successful authentication, or nullptr.
const char* passdbField(struct client* client, const char* key);
// The passdb extra fields a referral of a successful login reads (nullptr:
// not set; the first of a name counts, as with passdbField()), found in one
// pass.
struct PassdbReferralFields {
    const char* host = nullptr;
    const char* destuser = nullptr;
    const char* port = nullptr;
    const char* reason = nullptr;
};
PassdbReferralFields passdbReferralFields(struct client* client);
// The referral target of the passdb's host, port and destuser fields (the
// login name when there is no destuser), with the command and mechanism;
// false when there is no host or the port is invalid (logged).  `reason` is
// left to the caller.
bool passdbReferralFacts(struct client* client, const PassdbReferralFields& fields,
                         LoginReferralFacts* facts);
// Event "referral_login_reply": reply = no | ok | unavailable | local |
// proxy-ok (| drain, see login_drain.cpp), command, url; on top of the
// client's own event (user, session, IPs), so metrics can count what
// clients were told.
struct event* replyEvent(struct client* client, const char* reply, LoginCommand cmd,
                         const LoginReply& out);
// What a referral given to a client is: a NO referral (the client stays
// Not Authenticated), an OK referral of a local login (policy suggest, or
// the passdb's bare host), or the OK referral hint on a proxied login
// (policy proxy-suggest).
enum class ReferralKind { No, Ok, ProxyHint };
// Logs a referral the client was given (R2221-16: target, command, user;
// `urlUser` is the user the URL names, facts.user) as a note on the
// connection's one info line, Dovecot's own (appendReferralNote()).  A NO
// referral: the line written once the client
// is disconnected (2.3 "Disconnected: ...", 2.4 "Login aborted: ...", or
// the "Login:" line of a later successful login), the note before the
// login_log_format_elements Dovecot adds.  An OK referral: the next info
// line, which is the login's own (2.3 "Login: ...", 2.4 "Logged in: ...",
// the proxy's "Started proxying ..."), the note at its end, so that the
// line still begins as Dovecot writes it for any login.  The event
// referral_login_reply (reply = no | ok | proxy-ok) is sent with e_debug,
// built only when a log_debug, log_core_filter or metric filter can select
// it.  May throw std::bad_alloc.
void noteReferral(struct client* client, ReferralKind kind, LoginCommand cmd,
                  std::string_view urlUser, const LoginReply& out);

}  // namespace dref
