#pragma once
// The user's placement taken from fields an earlier passdb already returned
// (e.g. `passdb ldap` reading mailHost with the password), so that the
// referral passdb needs no search of its own (issue 13; docs/login-referrals.md
// §1.5).  No Dovecot include: the glue copies the four fields in and gets a
// record validated by the same function as the directory's own values.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "home_server.h"
#include "settings.h"

namespace dref {

// Field names, fixed (documented for pass_attrs / fields { }):
inline constexpr const char* kFieldHomeServer = "referral_home_server";  // home_server_attribute
inline constexpr const char* kFieldUrl = "referral_url";                 // home_url_attribute
inline constexpr const char* kFieldPolicy = "referral_policy";           // policy_attribute
inline constexpr const char* kFieldUser = "referral_user";               // referral_user_attribute
// Set by the passdb line itself, as a constant: the names of the fields it
// maps (separated by '+', ' ' or ':'), so that a field it maps but did not
// set means "the entry has no such attribute".  For Dovecot 2.3's plain
// pass_attrs mappings (`mailHost=referral_home_server`), which leave a field
// unset when the attribute is absent and, unlike %{ldap:...} templates, do
// not enter the ldap passdb's auth cache key (docs/login-referrals.md §1.5).
inline constexpr const char* kFieldSet = "referral_fields";

// The four fields as the earlier passdb left them: nullopt = not set at all,
// "" = set but empty (the attribute is absent in the entry: Dovecot's
// `%{ldap:attr}` / `%{ldap:attr | default}` expand to "").  Several values
// arrive joined by TAB (2.4's %{ldap_multi:...}), as separate values.
// Views of the request's own strings, not copies (a warm login reads them
// at every login, issue 13): they must outlive the calls below.
struct ReferralFields {
    std::optional<std::string_view> homeServer, url, policy, user;
    std::optional<std::string_view> fieldSet;  // kFieldSet: the fields the passdb line maps
};

enum class ReferralFieldSet {
    None,      // no field set: ask the directory (sites that do not use them)
    Complete,  // every field whose attribute is configured is set: no search
    Partial,   // some missing: ask the directory, ignore the fields
};

// Which of the three.  A field counts only when its *_attribute setting is
// non-empty (the directory would not read that attribute either).  A field
// named in fieldSet counts as set (empty when unset).  For Partial,
// *missing names the fields that are not set.
ReferralFieldSet classifyReferralFields(const ReferralFields& fields, const DirectorySettings& s,
                                        std::string* missing);

// A Complete set -> the record the directory would have produced for an
// entry with these attribute values (an empty or unset field is an absent
// attribute; TAB-separated values are several values).  Validation and warnings are
// mapPlacementValues'.
void recordFromReferralFields(const ReferralFields& fields, const DirectorySettings& s,
                              UserRecord* record, std::vector<std::string>* warnings);

}  // namespace dref
