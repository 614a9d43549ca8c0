#include "entry_mapping.h"

#include "imap_url.h"
#include "mutf7.h"
#include "referral_policy.h"
#include "response_text.h"

namespace dref {
namespace {

std::string quoted(const std::string& value) { return "'" + quoteForLog(value) + "'"; }

// The single value of a single-valued attribute, or nullptr (absent, or
// several values: then a warning, since which one is meant is unknowable).
const std::string* singleValue(const ldap::Entry& entry, const std::string& attribute,
                               std::vector<std::string>* warnings) {
    if (attribute.empty()) return nullptr;
    const auto* values = entry.values(attribute);
    if (values == nullptr || values->empty()) return nullptr;
    if (values->size() > 1) {
        warnings->push_back(quoteForLog(entry.dn) + ": " + attribute + " has " +
                            std::to_string(values->size()) +
                            " values where one is expected; all ignored");
        return nullptr;
    }
    return &values->front();
}

void mapHomeServer(const ldap::Entry& entry, const DirectorySettings& s, UserRecord* record,
                   std::vector<std::string>* warnings) {
    std::string urlError;
    if (const std::string* url = singleValue(entry, s.homeUrlAttribute, warnings)) {
        std::string error;
        auto parts = parseImapUrl(*url, &error);
        if (parts && isValidHostName(parts->host)) {
            record->home = HomeServer{parts->host, parts->port};
            if (record->referralUser.empty()) record->referralUser = parts->user;
            if (parts->mailbox && !parts->mailbox->empty()) {
                warnings->push_back(quoteForLog(entry.dn) + ": " + s.homeUrlAttribute +
                                    " names a mailbox; only the server part is used");
            }
            return;
        }
        if (parts) error = "host is not a valid host name";
        urlError = s.homeUrlAttribute + " " + quoted(*url) + " rejected: " + error;
        warnings->push_back(quoteForLog(entry.dn) + ": " + urlError);
    }
    const auto* hostValues = s.homeServerAttribute.empty() ? nullptr
                                                           : entry.values(s.homeServerAttribute);
    if (const std::string* host = singleValue(entry, s.homeServerAttribute, warnings)) {
        if (isValidHostName(*host)) {
            record->home = HomeServer{*host, s.homePort};
            return;
        }
        std::string why = s.homeServerAttribute + " " + quoted(*host) + " is not a valid host name";
        warnings->push_back(quoteForLog(entry.dn) + ": " + why);
        record->homeError = urlError.empty() ? why : urlError + "; " + why;
        return;
    }
    if (hostValues != nullptr && hostValues->size() > 1) {
        record->homeError = s.homeServerAttribute + " has several values";
    } else if (!urlError.empty()) {
        record->homeError = urlError;
    }
}

void mapPolicy(const ldap::Entry& entry, const DirectorySettings& s, UserRecord* record,
               std::vector<std::string>* warnings) {
    const std::string* value = singleValue(entry, s.policyAttribute, warnings);
    if (value == nullptr) return;
    record->policy = parseReferralPolicy(*value);
    if (!record->policy) {
        warnings->push_back(quoteForLog(entry.dn) + ": " + s.policyAttribute + " " +
                            quoted(*value) + " is not refer, suggest, proxy or local; ignored");
    }
}

void mapReferralUser(const ldap::Entry& entry, const DirectorySettings& s, UserRecord* record,
                     std::vector<std::string>* warnings) {
    const std::string* value = singleValue(entry, s.referralUserAttribute, warnings);
    if (value == nullptr) return;
    if (value->empty() || value->size() > kMaxReferralUserBytes || !isValidUtf8(*value) ||
        hasControlCharacter(*value)) {
        warnings->push_back(quoteForLog(entry.dn) + ": " + s.referralUserAttribute + " " +
                            quoted(*value) +
                            " is empty, too long, not UTF-8 or has control characters; ignored");
        return;
    }
    record->referralUser = *value;
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
    mapReferralUser(entry, settings, record, warnings);
    mapHomeServer(entry, settings, record, warnings);
    mapPolicy(entry, settings, record, warnings);
    return UserMappingStatus::Found;
}

void mapMailboxEntries(const std::vector<ldap::Entry>& entries, bool personal,
                       const DirectorySettings& s, std::vector<RemoteMailbox>* out,
                       std::vector<std::string>* warnings) {
    for (const auto& entry : entries) {
        const std::string where = "remote mailbox " + quoteForLog(entry.dn) + " skipped: ";
        const auto* names = entry.values(s.mailboxNameAttribute);
        if (names == nullptr || names->size() != 1) {
            warnings->push_back(where + (names == nullptr ? "no " : "several values of ") +
                                s.mailboxNameAttribute);
            continue;
        }
        std::string why;
        if (!validMailboxName(names->front(), &why)) {
            warnings->push_back(where + why + " " + quoted(names->front()));
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
            warnings->push_back(where + "no valid " + s.mailboxUrlAttribute + urlProblems);
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
