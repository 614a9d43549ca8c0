#pragma once
// The values that place a user (home server, home URL, policy, referral
// user) -> a validated UserRecord.  The ONE validation of those values: the
// directory's own search (ldap/directory/entry_mapping.cpp) and the fields an
// earlier passdb returned (referral_fields.h) both go through it, so a value
// is accepted or refused the same way whichever path brought it.
//
// Every value is untrusted.  A value that fails validation (bad syntax,
// CR/LF, ']', NUL or other controls, over-long, invalid UTF-8, several
// values of a single-valued attribute) is dropped and one warning naming the
// source, the attribute and the (log-quoted) value is appended; it never
// reaches the record.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "home_server.h"

namespace dref {

constexpr size_t kMaxReferralUserBytes = 256;

// The values of one attribute as the source returned them, and its name for
// warnings ("mailHost", "referral_home_server"; empty: not configured, the
// values are ignored).  The values come either from the directory's entry
// (`values`; nullptr or empty: absent) or from an earlier passdb's field
// (`tabJoined`: "" = absent, several values separated by TAB, Dovecot 2.4's
// %{ldap_multi:...}), read in place without a copy (issue 13: a warm login
// with the fields).  Everything referred to must outlive the
// mapPlacementValues call.
struct PlacementValue {
    const std::vector<std::string>* values = nullptr;
    std::optional<std::string_view> tabJoined;
    std::string_view name;

    size_t count() const;
    std::string_view first() const;  // count() > 0
};

struct PlacementValues {
    PlacementValue homeServer;    // bare host name or IPv4 address; port = homePort
    PlacementValue homeUrl;       // imap://[user@]host[:port]/, overrides homeServer
    PlacementValue policy;        // refer / suggest / proxy / local
    PlacementValue referralUser;  // the name the home server knows the user by (D-18)
};

// Fills home/homeError, policy and referralUser of *record (other members
// untouched).  `where` prefixes every warning: the entry's DN, or which
// passdb fields.
void mapPlacementValues(const PlacementValues& values, uint16_t homePort, const std::string& where,
                        UserRecord* record, std::vector<std::string>* warnings);

}  // namespace dref
