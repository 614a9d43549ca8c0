#include "stored_password.h"

namespace dref {

std::string storedPasswordProblem(std::string_view value) {
    if (value.empty()) return "empty value";
    if (value.size() > kMaxStoredPasswordBytes)
        return std::to_string(value.size()) + " octets, more than " +
               std::to_string(kMaxStoredPasswordBytes);
    for (unsigned char c : value) {
        // 8-bit octets are allowed: a PLAIN password may be UTF-8.
        if (c < 0x20 || c == 0x7f) return "control octet in the value";
    }
    return "";
}

bool isValidSchemeName(std::string_view name) {
    if (name.empty() || name.size() > kMaxSchemeNameBytes) return false;
    for (char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

}  // namespace

bool splitStoredPassword(std::string_view value, std::string_view defaultScheme,
                         StoredPasswordParts* out, std::string* why) {
    if (value.empty() || value.front() != '{') {
        out->scheme = upper(defaultScheme);
        out->crypted = value;
        return true;
    }
    // Only as far as a scheme name can reach: the rest of the value is not
    // searched (and never quoted).
    const size_t close = value.substr(0, kMaxSchemeNameBytes + 2).find('}');
    if (close == std::string_view::npos || !isValidSchemeName(value.substr(1, close - 1))) {
        *why = "value starts with '{' but has no valid {SCHEME} prefix";
        return false;
    }
    out->scheme = upper(value.substr(1, close - 1));
    out->crypted = value.substr(close + 1);
    return true;
}

PasswordLookupAction passwordLookupAction(LookupStatus status, const UserRecord& record) {
    switch (status) {
    case LookupStatus::NotFound: return PasswordLookupAction::UserUnknown;
    case LookupStatus::Unavailable: return PasswordLookupAction::Unavailable;
    case LookupStatus::Found: break;
    }
    if (record.matchingEntries > 1) return PasswordLookupAction::SeveralEntries;
    if (record.password) return PasswordLookupAction::Verify;
    return record.passwordError.empty() ? PasswordLookupAction::Missing : PasswordLookupAction::Unusable;
}

bool askDirectoryAgainAfterFailure(bool fromCache, bool stale, bool askedAgain) {
    return fromCache && !stale && !askedAgain;
}

}  // namespace dref
