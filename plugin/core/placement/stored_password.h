#pragma once
// Password mode (docs/login-referrals.md §1.6): the referral passdb checks
// the login password against the hash it reads from the user's directory
// entry (password_attribute), so a site runs one passdb and one search per
// cold login.  What is decided here, without Dovecot: whether a directory
// value can be used at all, how its {SCHEME} prefix splits off, and what a
// lookup's outcome means for the password check.  The check itself is
// Dovecot's (auth_request_password_verify, plugin/auth/dovecot_compat.h).
//
// A stored password is a secret: no function here puts it, or any part of
// it, into a message.
#include <cstddef>
#include <string>
#include <string_view>

#include "home_server.h"
#include "referral_decision.h"

namespace dref {

// Longest password value accepted from the directory.  Every hash scheme
// Dovecot knows fits many times (BLF-CRYPT 60 octets, SHA512-CRYPT ~106,
// ARGON2ID ~100, PBKDF2 ~150); a longer value is a broken or hostile entry,
// not a password, and would be copied into every cache entry of the user.
constexpr size_t kMaxStoredPasswordBytes = 1024;
// Longest scheme name inside "{...}" (Dovecot's longest is ~20).
constexpr size_t kMaxSchemeNameBytes = 32;

// Why a directory value cannot be used as a stored password ("" when it
// can): empty, longer than kMaxStoredPasswordBytes, or with a NUL or other
// control octet (Dovecot's scheme functions take C strings; CR/LF/TAB never
// belong in a hash).  The reason names only the length, never the value.
std::string storedPasswordProblem(std::string_view value);

// Scheme names: 1..kMaxSchemeNameBytes of A-Z a-z 0-9 . _ -
bool isValidSchemeName(std::string_view name);

// A stored password split into Dovecot's (scheme, crypted) pair.
struct StoredPasswordParts {
    std::string scheme;        // upper-cased, as Dovecot's scheme table names them
    std::string_view crypted;  // view into the value given to splitStoredPassword
};

// "{SHA512-CRYPT}$6$..." -> ("SHA512-CRYPT", "$6$...").  A value without a
// leading '{' uses `defaultScheme` (password_default_scheme; CRYPT also
// verifies "$1$", "$5$", "$6$", "$2y$" and "$y$" hashes through crypt(3)).
// A value that starts with '{' but has no valid "{NAME}" prefix is refused
// (false, *why set) rather than verified as a whole under the default
// scheme: a typo in the prefix must not silently become a different check.
bool splitStoredPassword(std::string_view value, std::string_view defaultScheme,
                         StoredPasswordParts* out, std::string* why);

// What the passdb does with a directory answer in password mode.
enum class PasswordLookupAction {
    UserUnknown,  // no entry: PASSDB_RESULT_USER_UNKNOWN (a later passdb may know the user)
    Unavailable,  // directory unavailable and no last answer: temporary failure
    // several entries match the login name: internal failure, as Dovecot's
    // ldap passdb answers when its filter matches several (which entry's
    // password is meant cannot be known; the directory needs repair)
    SeveralEntries,
    Missing,      // entry without a password value: mismatch ("no password")
    Unusable,     // entry whose value was refused (passwordError): mismatch, warning
    Verify,       // check the login password against the value
};

// The action for a lookup's status and record (record.password /
// passwordError filled by the directory mapping when password_attribute is
// set).
PasswordLookupAction passwordLookupAction(LookupStatus status, const UserRecord& record);

// True when a failed check against this answer should ask the directory
// once more before the login fails: the answer came from the cache, while
// the directory can be asked (not a stale answer of an outage), and it has
// not been asked again for this login yet.  The password may have changed
// since the answer was cached; Dovecot's auth cache asks its passdb again
// on a mismatch for the same reason.
bool askDirectoryAgainAfterFailure(bool fromCache, bool stale, bool askedAgain);

}  // namespace dref
