#include "entry_mapping.h"

#include <iterator>
#include <utility>

#include "imap_url_parse.h"
#include "mutf7.h"
#include "remote_mailbox_cache_encoder.h"
#include "response_text.h"
#include "stored_password.h"

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

// password_attribute's value into record->password, or why not into
// record->passwordError (never the value itself: it is a secret).  Several
// values are refused: which one the user means cannot be known, and
// accepting any of them would widen what a password guess has to match.
void mapStoredPassword(const ldap::Entry& entry, const std::string& attribute, UserRecord* record) {
    const std::vector<std::string>* values = entry.values(attribute);
    if (values == nullptr || values->empty()) return;
    if (values->size() > 1) {
        record->passwordError = attribute + " has " + std::to_string(values->size()) +
                                " values where one is expected";
        return;
    }
    std::string problem = storedPasswordProblem(values->front());
    if (!problem.empty()) {
        record->passwordError = attribute + " value refused: " + problem;
        return;
    }
    record->password = values->front();
}

}  // namespace

UserMappingStatus mapUserEntries(const std::vector<ldap::Entry>& entries,
                                 const DirectorySettings& settings, UserRecord* record,
                                 std::vector<std::string>* warnings, bool moreLeft) {
    *record = UserRecord{};
    if (entries.empty()) return UserMappingStatus::NotFound;
    if (entries.size() > 1) {
        std::string dns;
        for (size_t i = 0; i < entries.size() && i < 3; ++i) {
            dns += (i ? ", " : "") + quoteForLog(entries[i].dn);
        }
        if (entries.size() > 3) dns += ", ...";
        record->matchingEntries = static_cast<unsigned int>(entries.size());
        record->moreEntriesMatch = moreLeft;
        record->homeError = (moreLeft ? "more than " : "") + std::to_string(entries.size()) +
                            " directory entries match the user";
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
    if (!settings.passwordAttribute.empty()) mapStoredPassword(entry, settings.passwordAttribute, record);
    return UserMappingStatus::Found;
}

MailboxEntryMapper::MailboxEntryMapper(bool personal, const DirectorySettings& settings,
                                       bool encode)
    : personal_(personal),
      encode_(encode),
      nameAttribute_(settings.mailboxNameAttribute),
      urlAttribute_(settings.mailboxUrlAttribute) {}

// One entry of a remote-mailbox search: appended to mailboxes_ when it has a
// usable name and at least one valid URL, else one warning naming its DN.
// The name and the DN are moved out of `entry` (the worker's own entry,
// which is dropped right after).
void MailboxEntryMapper::take(ldap::Entry&& entry) {
    // Built only for a warning: quoting every DN for nothing was a tenth of
    // the mapping's time at 1,000 entries.
    auto where = [&entry] { return "remote mailbox " + quoteForLog(entry.dn) + " skipped: "; };
    auto* names = entry.values(nameAttribute_);
    if (names == nullptr || names->size() != 1) {
        warnings_.push_back(where() + (names == nullptr ? "no " : "several values of ") +
                            nameAttribute_);
        return;
    }
    std::string why;
    if (!validMailboxName(names->front(), &why)) {
        warnings_.push_back(where() + why + " " + quoted(names->front()));
        return;
    }
    RemoteMailbox mailbox;
    mailbox.personal = personal_;
    std::string urlProblems;
    sourceUrls_.clear();
    if (const auto* urls = entry.values(urlAttribute_)) {
        mailbox.locations.reserve(urls->size());
        for (const auto& url : *urls) {
            std::string error;
            // parseImapUrl checks the host (isValidHostName), UTF-8 and C0
            // controls; the length and C1 controls of the mailbox are ours.
            auto parts = parseImapUrl(url, &error);
            if (parts && parts->mailbox && !validMailboxName(*parts->mailbox, &error)) {
                parts.reset();
            }
            if (!parts) {
                urlProblems += "; " + urlAttribute_ + " " + quoted(url) + ": " + error;
                continue;
            }
            mailbox.locations.push_back(std::move(*parts));
            sourceUrls_.emplace_back(url);
        }
    }
    if (mailbox.locations.empty()) {
        warnings_.push_back(where() + "no valid " + urlAttribute_ + urlProblems);
        return;
    }
    if (!urlProblems.empty()) {
        warnings_.push_back("remote mailbox " + quoteForLog(entry.dn) + ": ignored" +
                            urlProblems.substr(1));
    }
    mailbox.name = std::move(names->front());
    mailbox.dn = std::move(entry.dn);
    mailboxes_.push_back(std::move(mailbox));
    if (encode_) encodeLast();
}

// The mailbox just mapped, in its lines now, while the server sends the
// next entries; its parsed form is not needed any more.  The URLs' texts
// (sourceUrls_, views into the entry take() still holds) spare the encoder
// a second parse of each URL it writes back unchanged: the checks above are
// the ones the decoder makes (parseImapUrl, then validMailboxName, which is
// the cache file's check of a URL's mailbox part).
void MailboxEntryMapper::encodeLast() {
    RemoteMailbox& m = mailboxes_.back();
    EncodedMailbox e;
    e.offset = lines_.size();
    if (appendMailboxCacheEntry(m, sourceUrls_, &lines_, &e.error))
        e.length = lines_.size() - e.offset;
    e.dn = std::move(m.dn);
    encoded_.push_back(std::move(e));
    mailboxes_.pop_back();
}

void MailboxEntryMapper::restart() {
    mailboxes_.clear();
    encoded_.clear();
    lines_.clear();
    warnings_.clear();
}

void mapMailboxEntries(const std::vector<ldap::Entry>& entries, bool personal,
                       const DirectorySettings& settings, std::vector<RemoteMailbox>* out,
                       std::vector<std::string>* warnings) {
    MailboxEntryMapper mapper(personal, settings);
    for (const auto& entry : entries) mapper.take(ldap::Entry(entry));
    out->insert(out->end(), std::make_move_iterator(mapper.mailboxes().begin()),
                std::make_move_iterator(mapper.mailboxes().end()));
    warnings->insert(warnings->end(), std::make_move_iterator(mapper.warnings().begin()),
                     std::make_move_iterator(mapper.warnings().end()));
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
