#include "entry_mapping.h"

#include "imap_url.h"
#include "mutf7.h"
#include "response_text.h"

namespace dref {
namespace {

std::string quoted(const std::string& value) { return "'" + quoteForLog(value) + "'"; }

// The values of `attribute` in `entry` for mapPlacementValues (no attribute
// configured: absent).
PlacementValue placementValue(const ldap::Entry& entry, const std::string& attribute) {
    PlacementValue v;
    v.name = attribute;
    if (!attribute.empty()) v.values = entry.values(attribute);
    return v;
}

bool validMailboxName(const std::string& name, std::string* why) {
    if (name.empty()) {
        *why = "empty mailbox name";
    } else if (name.size() > kMaxMailboxNameBytes) {
        *why = "mailbox name longer than " + std::to_string(kMaxMailboxNameBytes) + " octets";
    } else if (!isValidUtf8(name)) {
        *why = "mailbox name is not valid UTF-8";
    } else if (hasControlCharacter(name)) {
        *why = "mailbox name contains control characters";
    } else {
        return true;
    }
    return false;
}

}  // namespace

UserMappingStatus mapUserEntries(const std::vector<ldap::Entry>& entries,
                                 const DirectorySettings& settings, UserRecord* record,
                                 std::vector<std::string>* warnings) {
    *record = UserRecord{};
    if (entries.empty()) return UserMappingStatus::NotFound;
    if (entries.size() > 1) {
        std::string dns;
        for (size_t i = 0; i < entries.size() && i < 3; ++i) {
            dns += (i ? ", " : "") + quoteForLog(entries[i].dn);
        }
        if (entries.size() > 3) dns += ", ...";
        record->homeError = std::to_string(entries.size()) + " directory entries match the user";
        warnings->push_back(record->homeError + " (" + dns + "); none is used");
        return UserMappingStatus::Ambiguous;
    }
    const ldap::Entry& entry = entries.front();
    record->dn = entry.dn;
    PlacementValues values;
    values.homeServer = placementValue(entry, settings.homeServerAttribute);
    values.homeUrl = placementValue(entry, settings.homeUrlAttribute);
    values.policy = placementValue(entry, settings.policyAttribute);
    values.referralUser = placementValue(entry, settings.referralUserAttribute);
    mapPlacementValues(values, settings.homePort, quoteForLog(entry.dn), record, warnings);
    return UserMappingStatus::Found;
}

void mapMailboxEntries(const std::vector<ldap::Entry>& entries, bool personal,
                       const DirectorySettings& s, std::vector<RemoteMailbox>* out,
                       std::vector<std::string>* warnings) {
    // Built only for a warning: quoting every DN for nothing was a tenth of
    // the mapping's time at 1,000 entries.
    auto where = [](const ldap::Entry& entry) {
        return "remote mailbox " + quoteForLog(entry.dn) + " skipped: ";
    };
    for (const auto& entry : entries) {
        const auto* names = entry.values(s.mailboxNameAttribute);
        if (names == nullptr || names->size() != 1) {
            warnings->push_back(where(entry) + (names == nullptr ? "no " : "several values of ") +
                                s.mailboxNameAttribute);
            continue;
        }
        std::string why;
        if (!validMailboxName(names->front(), &why)) {
            warnings->push_back(where(entry) + why + " " + quoted(names->front()));
            continue;
        }
        RemoteMailbox mailbox;
        mailbox.name = names->front();
        mailbox.dn = entry.dn;
        mailbox.personal = personal;
        std::string urlProblems;
        if (const auto* urls = entry.values(s.mailboxUrlAttribute)) {
            for (const auto& url : *urls) {
                std::string error;
                auto parts = parseImapUrl(url, &error);
                if (parts && !isValidHostName(parts->host)) {
                    parts.reset();
                    error = "host is not a valid host name";
                }
                if (parts && parts->mailbox && !validMailboxName(*parts->mailbox, &error)) {
                    parts.reset();
                }
                if (!parts) {
                    urlProblems += "; " + s.mailboxUrlAttribute + " " + quoted(url) + ": " + error;
                    continue;
                }
                mailbox.locations.push_back(std::move(*parts));
            }
        }
        if (mailbox.locations.empty()) {
            warnings->push_back(where(entry) + "no valid " + s.mailboxUrlAttribute + urlProblems);
            continue;
        }
        if (!urlProblems.empty()) {
            warnings->push_back("remote mailbox " + quoteForLog(entry.dn) + ": ignored" +
                                urlProblems.substr(1));
        }
        out->push_back(std::move(mailbox));
    }
}

std::string expandUserFilter(const std::string& pattern, const std::string& loginName) {
    const size_t at = loginName.find('@');
    const std::string local = at == std::string::npos ? loginName : loginName.substr(0, at);
    const std::string domain = at == std::string::npos ? std::string() : loginName.substr(at + 1);
    std::string out;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '%' || i + 1 >= pattern.size()) {
            out += pattern[i];
            continue;
        }
        switch (pattern[i + 1]) {
        case 'u': out += ldap::escapeFilterValue(loginName); break;
        case 'n': out += ldap::escapeFilterValue(local); break;
        case 'd': out += ldap::escapeFilterValue(domain); break;
        case '%': out += '%'; break;
        default: out += pattern.substr(i, 2); break;
        }
        ++i;
    }
    return out;
}

}  // namespace dref
