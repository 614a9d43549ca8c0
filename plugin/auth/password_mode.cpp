// Password mode (password_attribute set, docs/login-referrals.md §1.6):
// the referral passdb checks the client's password against the hash of the
// user's directory entry (verify_plain), or hands that hash to the
// mechanism (lookup_credentials), before the decision of chain mode.
extern "C" {
#include "auth-common.h"
#include "auth-request.h"
#include "passdb.h"
}

#include "dovecot_compat.h"
#include "pending_lookup.h"
#include "process_secrets.h"
#include "referral_passdb.h"
#include "response_text.h"

namespace dref {

namespace {

// Several directory entries match the login name: which one's password is
// meant cannot be known, and the directory needs repair.  Dovecot's own
// ldap passdb answers this with an internal failure (passdb-ldap.c: "pass_filter
// matched multiple objects, aborting"), and so does this one, with a line
// naming the user and the count: never a referral, never a success.
void answerSeveralEntries(PendingLookup& p, const UserLookupResult& result) {
    logWarnings(p, result);  // names the entries
    e_error(lookupEvent(p),
            "directory: %s%u entries match the login name \"%s\", password mode needs exactly one: "
            "login failed (internal failure)",
            result.record.moreEntriesMatch ? "more than " : "", result.record.matchingEntries,
            quoteForLog(p.facts.loginUser).c_str());
    answer(p, failedLogin(PassdbOutcome::InternalFailure));
    dropEvent(p);
}

}  // namespace

bool ReferralPassdb::passwordMode() const {
    return !settings_.directory.passwordAttribute.empty();
}

bool ReferralPassdb::passwordAccepted(const std::shared_ptr<PendingLookup>& p,
                                      const UserLookupResult& result) {
    struct auth_request* request = p->request;
    const UserRecord& record = result.record;
    const bool mayAskAgain =
        directory_ && askDirectoryAgainAfterFailure(result.fromCache, result.stale, p->askedAgain);
    PassdbOutcome failure = PassdbOutcome::PasswordMismatch;
    const char* why = "password mismatch";
    switch (passwordLookupAction(toLookupStatus(result.status), record)) {
    case PasswordLookupAction::Unavailable:
        return true;  // decide(): temporary failure, as in chain mode
    case PasswordLookupAction::UserUnknown:
        logWarnings(*p, result);
        answerUnknownUser(*p);
        return false;
    case PasswordLookupAction::SeveralEntries:
        answerSeveralEntries(*p, result);
        return false;
    case PasswordLookupAction::Missing:
        if (mayAskAgain) break;
        // Dovecot's own "No password returned (and no nopassword)" info
        // line, as its ldap passdb writes it for an entry without one.
        if (auth_request_password_missing(request) == PASSDB_RESULT_OK) return true;
        why = "no password in the directory entry";
        break;
    case PasswordLookupAction::Unusable:
        if (mayAskAgain) break;
        e_warning(lookupEvent(*p), "directory: %s: %s; login refused",
                  quoteForLog(record.dn, 200).c_str(), record.passwordError.c_str());
        why = "unusable password value";
        break;
    case PasswordLookupAction::Verify: {
        StoredPasswordParts parts;
        std::string splitError;
        if (!splitStoredPassword(*record.password, settings_.directory.passwordDefaultScheme, &parts,
                                 &splitError)) {
            if (mayAskAgain) break;
            e_warning(lookupEvent(*p), "directory: %s: %s %s; login refused",
                      quoteForLog(record.dn, 200).c_str(),
                      settings_.directory.passwordAttribute.c_str(), splitError.c_str());
            why = "unusable password value";
            break;
        }
        // Dovecot's check takes a C string; the copy is wiped right after it.
        std::string crypted(parts.crypted);
        const WipeOnExit wipeCrypted(&crypted);
        const char* plain = request->mech_password != nullptr ? request->mech_password : "";
        switch (verifyPassword(request, plain, crypted.c_str(), parts.scheme.c_str(), !mayAskAgain)) {
        case PasswordCheck::Ok: return true;
        case PasswordCheck::Mismatch: break;
        case PasswordCheck::Failure:
            // Dovecot logged why (unknown scheme, data invalid for it): a
            // directory to repair, not a wrong password.
            failure = PassdbOutcome::InternalFailure;
            why = "stored password not usable with its scheme";
            break;
        }
        break;
    }
    }
    if (mayAskAgain) {
        // The password may have changed since the answer was cached.
        p->askedAgain = true;
        if (p->eventsWanted)
            e_debug(lookupEvent(*p), "password check failed against the cached answer: "
                                     "asking the directory again");
        pending_.insert(p);
        p->id = directory_->refreshUser(p->facts.loginUser, [this, p](UserLookupResult&& again) {
            finishAndWipe(p, std::move(again));
        });
        return false;
    }
    logWarnings(*p, result);
    if (p->eventsWanted) e_debug(lookupEvent(*p), "login refused: %s", why);
    // No referral field of any kind on a failed login (R2221-15).
    answer(*p, failedLogin(failure));
    dropEvent(*p);
    return false;
}

bool ReferralPassdb::credentialsLookup(const std::shared_ptr<PendingLookup>& p,
                                       const UserLookupResult& result, StoredPasswordParts* stored,
                                       bool* haveStored) {
    *haveStored = false;
    const UserRecord& record = result.record;
    switch (passwordLookupAction(toLookupStatus(result.status), record)) {
    case PasswordLookupAction::UserUnknown:
        answerUnknownUser(*p);
        return false;
    case PasswordLookupAction::SeveralEntries:
        answerSeveralEntries(*p, result);
        return false;
    case PasswordLookupAction::Verify: {
        // A value with a broken {SCHEME} prefix: no credentials, so the
        // mechanism is refused (SCHEME_NOT_AVAILABLE).
        std::string splitError;
        *haveStored = splitStoredPassword(*record.password, settings_.directory.passwordDefaultScheme,
                                          stored, &splitError);
        if (!*haveStored)
            e_warning(lookupEvent(*p), "directory: %s: %s %s", quoteForLog(record.dn, 200).c_str(),
                      settings_.directory.passwordAttribute.c_str(), splitError.c_str());
        break;
    }
    case PasswordLookupAction::Unusable:
        e_warning(lookupEvent(*p), "directory: %s: %s", quoteForLog(record.dn, 200).c_str(),
                  record.passwordError.c_str());
        break;
    case PasswordLookupAction::Unavailable:  // decide(): temporary failure
    case PasswordLookupAction::Missing:      // Dovecot refuses the mechanism
        break;
    }
    return true;
}

}  // namespace dref
