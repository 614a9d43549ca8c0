// How one login's lookup ends: its event and the answer handed to
// Dovecot (see pending_lookup.h).
extern "C" {
#include "auth-common.h"
#include "auth-fields.h"
#include "auth-request.h"
#include "passdb.h"
}

#include "dovecot_compat.h"
#include "pending_lookup.h"
#include "process_secrets.h"
#include "referral_fields.h"
#include "response_text.h"

namespace dref {

// Our event category "referral" (filter: category=referral).  The same name
// is used by the imap plugin; Dovecot's stats process requires one
// definition per name across processes, so it has no parent category.
static struct event_category referralCategory = {nullptr, "referral", nullptr};

namespace {

// The referral_* fields are input for this driver only: removed before the
// answer, so that they reach neither the login process nor this passdb's
// cache entry (the earlier passdb's own cache entry keeps them; a warm
// login needs them there).
void dropReferralFields(struct auth_request* request) {
    struct auth_fields* fields = request->fields.extra_fields;
    if (fields == nullptr) return;
    for (const char* name : {kFieldHomeServer, kFieldUrl, kFieldPolicy, kFieldUser, kFieldSet})
        auth_fields_remove(fields, name);
}

enum passdb_result toPassdbResult(PassdbOutcome o) {
    switch (o) {
    case PassdbOutcome::Ok: return PASSDB_RESULT_OK;
    case PassdbOutcome::InternalFailure: return PASSDB_RESULT_INTERNAL_FAILURE;
    case PassdbOutcome::Refused: return PASSDB_RESULT_USER_DISABLED;
    case PassdbOutcome::UserUnknown: return PASSDB_RESULT_USER_UNKNOWN;
    case PassdbOutcome::PasswordMismatch: return PASSDB_RESULT_PASSWORD_MISMATCH;
    }
    return PASSDB_RESULT_INTERNAL_FAILURE;
}

}  // namespace

LookupStatus toLookupStatus(DirectoryStatus s) {
    switch (s) {
    case DirectoryStatus::Found: return LookupStatus::Found;
    case DirectoryStatus::NotFound: return LookupStatus::NotFound;
    case DirectoryStatus::Unavailable: return LookupStatus::Unavailable;
    }
    return LookupStatus::Unavailable;
}

struct event* lookupEvent(PendingLookup& p) {
    if (p.event != nullptr) return p.event;
    p.event = event_create(authdb_event(p.request));
    event_add_category(p.event, &referralCategory);
    event_add_str(p.event, "client_id_name", p.facts.clientIdName.c_str());
    event_add_str(p.event, "referral_protocol", protocolName(p.facts.protocol));
    return p.event;
}

void dropEvent(PendingLookup& p) {
    if (p.event != nullptr) event_unref(&p.event);
}

// No `nopassword` field: it only tells Dovecot's auth cache that a passdb
// returned no password, and this passdb has no cache key, so Dovecot never
// caches its answers (2.3.19.1 auth.c:105-111, auth-request.c:449; 2.4.1
// auth.c:131-134, auth-request.c:500).
void answer(PendingLookup& p, const PassdbReply& reply, const StoredPasswordParts* stored) {
    struct auth_request* request = p.request;
    p.request = nullptr;
    if (p.hasReferralFields) dropReferralFields(request);
    enum passdb_result result = toPassdbResult(reply.outcome);
    // The reply's fields (host, port, destuser, nologin, reason, proxy, ...)
    // are plain extra fields for the login process, none of the names
    // auth_request_set_field() interprets (password, user, nodelay,
    // userdb_*, ...; passdb_reply_test keeps it so): added directly,
    // without its name checks at every login.
    for (const auto& field : reply.fields)
        auth_fields_add(request->fields.extra_fields, field.first.c_str(), field.second.c_str(),
                        static_cast<enum auth_field_flags>(0));
    if (reply.noDelay) {
        // Dovecot rolls back the fields of a failed passdb lookup to the
        // last snapshot; take one so `nodelay` survives and the correct-
        // password user is not held back by auth_failure_delay.
        auth_request_set_field(request, "nodelay", "yes", nullptr);
        auth_fields_snapshot(request->fields.extra_fields);
    }
    if (p.plainCallback != nullptr) {
        p.plainCallback(result, request);
    } else if (p.checkPassword) {
        // Dovecot converts the stored scheme into the one the mechanism
        // wants, or answers SCHEME_NOT_AVAILABLE (which also drops the
        // fields added above).
        // A C string for Dovecot, which copies it; ours is wiped after.
        std::string crypted = stored != nullptr ? std::string(stored->crypted) : std::string();
        const WipeOnExit wipeCrypted(&crypted);
        passdb_handle_credentials(result, stored != nullptr ? crypted.c_str() : nullptr,
                                  stored != nullptr ? stored->scheme.c_str() : nullptr,
                                  p.credentialsCallback, request);
    } else {
        p.credentialsCallback(result, uchar_empty_ptr, 0, request);
    }
    auth_request_unref(&request);
}

PassdbReply failedLogin(PassdbOutcome outcome) {
    PassdbReply r;
    r.outcome = outcome;
    return r;
}

PassdbReply internalFailure() {
    PassdbReply r;
    r.outcome = PassdbOutcome::InternalFailure;
    r.noDelay = true;
    return r;
}

void answerInternalError(PendingLookup& p, PassdbStep step, const char* what) noexcept {
    // Once answered (p.request cleared) the event may be gone too: then the
    // process's own log, which names no user.
    struct event* e = p.request != nullptr || p.event != nullptr ? lookupEvent(p) : nullptr;
    try {
        const std::string line = internalErrorLogLine(step, what);
        if (e != nullptr)
            e_error(e, "%s", line.c_str());
        else
            i_error("passdb referral: %s", line.c_str());
    } catch (...) {  // std::bad_alloc: the same line without the exception's text
        if (e != nullptr)
            e_error(e, "internal error during the %s; login answered NO [UNAVAILABLE]",
                    passdbStepName(step));
        else
            i_error("passdb referral: internal error during the %s", passdbStepName(step));
    }
    if (p.request != nullptr) answer(p, internalFailure());
    dropEvent(p);
}

void answerUnknownUser(PendingLookup& p) {
    logUnknownUser(p.request);
    answer(p, failedLogin(PassdbOutcome::UserUnknown));
    dropEvent(p);
}

void logWarnings(PendingLookup& p, const UserLookupResult& result) {
    for (const std::string& w : result.warnings)
        e_warning(lookupEvent(p), "directory: %s", quoteForLog(w, 300).c_str());
}

}  // namespace dref
