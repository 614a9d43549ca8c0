#pragma once
// A user's home server as the directory describes it, already validated.
#include <cstdint>
#include <optional>
#include <string>

#include "referral_policy.h"

namespace dref {

struct HomeServer {
    std::string host;     // validated DNS name or IPv4 address
    uint16_t port = 143;  // from imapHomeServerURL, else the configured home_port
};

// The directory's answer for one user, after mapping (ldap/directory).  A
// new field goes into the directory cache's form too
// (ldap/directory/user_answer_blob.cpp).
struct UserRecord {
    std::string dn;
    std::optional<HomeServer> home;        // absent: no (or no usable) home server
    std::string homeError;                 // why `home` is absent when the attribute was present
    std::optional<ReferralPolicy> policy;  // imapReferralPolicy, when present and valid
    std::string referralUser;              // identity the home server knows (D-18); empty = login name
    // Password mode (password_attribute set, stored_password.h): the entry's
    // stored password, checked with storedPasswordProblem(); absent when the
    // entry has none or it was refused (passwordError says why, without the
    // value).  A secret: never logged, printed or put into an event.
    std::optional<std::string> password;
    std::string passwordError;
    // Several directory entries match the login name (none is used;
    // homeError says so): how many the search returned, and whether it
    // stopped at its size limit with more left.  0 when one or none did.
    unsigned int matchingEntries = 0;
    bool moreEntriesMatch = false;
};

}  // namespace dref
