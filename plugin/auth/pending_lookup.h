#pragma once
// One login's lookup while the referral passdb works on it, and how it ends:
// its event, and the answer handed to Dovecot's passdb callback.  Shared by
// the lookup and decision (referral_passdb.cpp) and password mode's check
// (password_mode.cpp).  Dovecot glue: include after the Dovecot headers
// (extern "C" block with auth-common.h, passdb.h).
#include <chrono>
#include <cstdint>
#include <string>

#include "directory.h"
#include "internal_error_line.h"
#include "passdb_reply.h"
#include "referral_decision.h"
#include "stored_password.h"

namespace dref {

struct PendingLookup {
    struct auth_request* request = nullptr;  // referenced while pending; null once answered
    verify_plain_callback_t* plainCallback = nullptr;
    lookup_credentials_callback_t* credentialsCallback = nullptr;
    struct event* event = nullptr;  // created by lookupEvent(), only when needed
    // Something can want our debug events (event_interest.h): else they
    // and their fields are not built at all.
    bool eventsWanted = false;
    ClientFacts facts;
    uint64_t id = 0;
    std::chrono::steady_clock::time_point started;
    bool fromFields = false;  // placement from an earlier passdb's fields, no lookup
    // An earlier passdb may have set referral_* fields: answer() removes
    // them.  Cleared only once they were all found absent.
    bool hasReferralFields = true;
    // Password mode (password_attribute set) and no earlier passdb of the
    // chain verified the password: this lookup checks it (verify_plain) or
    // hands the stored password to the mechanism (lookup_credentials).
    bool checkPassword = false;
    // The directory was asked again after a failed check against a cached
    // answer (askDirectoryAgainAfterFailure): at most once per login.
    bool askedAgain = false;
};

LookupStatus toLookupStatus(DirectoryStatus s);

// The request's own event (category referral, client_id_name,
// referral_protocol), created at its first use: only when a debug event of
// ours is wanted or a line above debug is written.
struct event* lookupEvent(PendingLookup& p);

void dropEvent(PendingLookup& p);

// Hands the answer to Dovecot and drops our reference.  `p.request` is
// cleared first, so a late directory callback for the same lookup finds
// nothing to answer.  `stored`: password mode's credentials lookup, the
// user's stored password and its scheme for the mechanism (nullptr: none;
// Dovecot then refuses the mechanism or, for a plain passdb lookup, goes
// on without credentials).
void answer(PendingLookup& p, const PassdbReply& reply, const StoredPasswordParts* stored = nullptr);

// A failed login: `outcome` with no field at all (R2221-15).  Its caller
// writes the line that says why (or Dovecot does: unknown user, password
// mismatch).
PassdbReply failedLogin(PassdbOutcome outcome);

// NO [UNAVAILABLE] without auth_failure_delay: the directory or this
// process is the problem, not the client.  Its caller writes the line.
PassdbReply internalFailure();

// An internal error (an exception) ended the work on `p` at `step`: the
// error line (internal_error_line.h; `what`: the exception's text, nullptr
// for catch (...)), on the login's event, then NO [UNAVAILABLE] when the
// login is not answered yet, and the event dropped.  Throws nothing: it
// runs in a catch handler inside a Dovecot call.
void answerInternalError(PendingLookup& p, PassdbStep step, const char* what) noexcept;

// Password mode, no directory entry for the login name: Dovecot's "unknown
// user" line and USER_UNKNOWN (a later passdb of the chain may know the
// user), then the event is dropped.
void answerUnknownUser(PendingLookup& p);

// The lookup's warnings (values dropped, the stale answer of an outage),
// for a login that ends before the decision line.
void logWarnings(PendingLookup& p, const UserLookupResult& result);

}  // namespace dref
