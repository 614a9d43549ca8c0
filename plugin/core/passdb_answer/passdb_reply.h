#pragma once
// Maps the referral decision onto what a Dovecot passdb can answer: a
// result and the extra fields Dovecot's login process understands (host,
// port, destuser, nologin, reason, proxy, master, pass).  No Dovecot
// include: unit-testable.
#include <string>
#include <utility>
#include <vector>

#include "referral_decision.h"
#include "settings.h"

namespace dref {

enum class PassdbOutcome {
    Ok,               // PASSDB_RESULT_OK with `fields`
    InternalFailure,  // PASSDB_RESULT_INTERNAL_FAILURE -> NO [UNAVAILABLE]
    Refused,          // PASSDB_RESULT_USER_DISABLED: a plain authentication failure
    // Password mode only (stored_password.h), never from buildPassdbReply:
    UserUnknown,       // PASSDB_RESULT_USER_UNKNOWN: not in the directory
    PasswordMismatch,  // PASSDB_RESULT_PASSWORD_MISMATCH: wrong, missing or unusable password
};

struct PassdbReply {
    PassdbOutcome outcome = PassdbOutcome::Ok;
    std::vector<std::pair<std::string, std::string>> fields;
    // Answer a failure without auth_failure_delay and penalty (the password
    // was correct; the directory is the problem).
    bool noDelay = false;
    // No text: buildPassdbReply()'s line is passdbReplyLogLine(), built
    // only when written; the other answers' callers write their own
    // (plugin/auth/pending_lookup.h).
};

// What buildPassdbReply() needs of the login settings, copied and prepared
// once when the settings are loaded (ReferralPassdb keeps it): the `reason`
// of a referral is referral_text as it goes on the wire, the same at every
// login.  Holds no reference: it may outlive the LoginSettings it was made
// of.
struct ReplySettings {
    explicit ReplySettings(const LoginSettings& login);
    ReplySettings(const ReplySettings&) = default;
    ReplySettings& operator=(const ReplySettings&) = default;
    ~ReplySettings();  // overwrites proxyMasterPassword
    ProxyConnectionSettings proxyConnection;
    std::string proxyMasterUser;
    std::string proxyMasterPassword;  // never logged
    // wireReferralText(referral_text): the same text as the login plugin's.
    std::string referralReason;
};

struct ReplyContext {
    std::string loginUser;         // user the password was checked for
    bool plaintextMech = true;     // verify_plain (the mechanism sent a password)
    bool credentialsLookup = false;  // lookup_credentials: the mechanism has not
                                     // verified the client's response yet
    // The service of the request: LMTP's and doveadm's lookups (credentials
    // lookups without a client) proxy without a user login.
    Protocol protocol = Protocol::Imap;
};

// Local -> Ok, no fields.
// Refer -> Ok + nologin host port destuser reason: Dovecot's login process
//   answers NO [REFERRAL ...].  Never during a credentials lookup: a later
//   mechanism failure would still carry the fields to the login process,
//   which turns any `host` into a referral (R2221-15); there the user is
//   proxied with the master user, or refused.
// Suggest -> Ok + host port destuser reason without nologin: a local login,
//   which the login plugin answers with OK [REFERRAL ...] (R2221-10,
//   docs/ok-referral.md); during a credentials lookup a plain local login.
// Proxy -> Ok + proxy host port destuser (+ ssl/starttls and proxy_timeout
//   from proxy_tls, proxy_tls_verify, proxy_timeout; + master/pass for
//   mechanisms without a plaintext password; refused when no master user is set).
//   LMTP and doveadm (proxyLogsIn false) never get master/pass: their proxy
//   does not log in as the user.  Port 0 (doveadm by default) -> no port.
// ProxySuggest -> the Proxy fields (and refusal) + referral_hint=y
//   (kProxyHintField): the login plugin answers the proxied login with
//   OK [REFERRAL ...] when the home server accepted it.
// TempFail -> InternalFailure, no delay (plaintext) -> NO [UNAVAILABLE].
// Reject -> Ok + nologin reason (NO [CONTACTADMIN] text, no URL) for
//   plaintext mechanisms; Refused during a credentials lookup.  For LMTP and
//   doveadm an InternalFailure instead: Dovecot turns a refused PASS lookup
//   into "user not in the passdb", and then LMTP delivers on this server and
//   doveadm runs here, and 2.4's LMTP bounces a nologin (550); a temporary
//   failure (LMTP 451) keeps the mail queued until the directory is fixed.
// Builds no text (a warm login writes no decision line).
PassdbReply buildPassdbReply(const Decision& decision, const ReplySettings& settings,
                             const ReplyContext& ctx);

// The log line of `reply`, which buildPassdbReply(decision, settings, ctx)
// returned: what the login gets and why (a refusal names the missing
// setting), never a password.  Built only for a line that is written.
std::string passdbReplyLogLine(const Decision& decision, const PassdbReply& reply,
                               const ReplySettings& settings, const ReplyContext& ctx);

// Text of a Reject answer (after "]" of NO [CONTACTADMIN]).
extern const char* const kRejectText;

}  // namespace dref
