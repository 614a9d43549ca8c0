// Reading the entries of a RemoteMailboxTable in place, and the referral
// URLs of a match (R2193-5..9, D-19).
#include <algorithm>

#include "remote_mailbox_table.h"
#include "response_text.h"

namespace dref {

std::string_view RemoteMailboxEntry::vname() const { return table_->nameOf(index_); }

std::string RemoteMailboxEntry::directoryName() const {
    const RemoteMailboxTable& t = *table_;
    if (t.records_[index_].flags & RemoteMailboxTable::kStoredDirectoryName) {
        auto it = std::lower_bound(
            t.directoryNames_.begin(), t.directoryNames_.end(), index_,
            [](const RemoteMailboxTable::DirectoryName& d, uint32_t r) { return d.record < r; });
        return std::string(t.text(it->name));
    }
    // The vname with '/' for the separator gives the directory name back:
    // a level never contains the separator (build() refuses those).
    std::string name(vname());
    if (t.separator_ != '/')
        for (char& c : name)
            if (c == t.separator_) c = '/';
    return name;
}

size_t RemoteMailboxEntry::locationCount() const {
    const auto& recs = table_->records_;
    size_t end = index_ + 1 < recs.size() ? recs[index_ + 1].firstLocation
                                          : table_->locations_.size();
    return end - recs[index_].firstLocation;
}

ImapUrlParts RemoteMailboxEntry::location(size_t i) const {
    const RemoteMailboxTable& t = *table_;
    const RemoteMailboxTable::Location& loc = t.locations_[t.records_[index_].firstLocation + i];
    const RemoteMailboxTable::Server& server = t.servers_[loc.server];
    ImapUrlParts p;
    p.host = std::string(t.text(server.host));
    p.port = server.port;
    p.user = std::string(t.text(server.user));
    p.auth = std::string(t.text(server.auth));
    if (loc.flags & RemoteMailboxTable::kHasMailbox)
        p.mailbox = std::string(t.arena_.data() + loc.mailboxOffset, loc.mailboxLength);
    else if (loc.flags & RemoteMailboxTable::kMailboxIsDirectoryName)
        p.mailbox = directoryName();
    if (loc.flags & RemoteMailboxTable::kHasUidValidity) p.uidValidity = loc.uidValidity;
    return p;
}

std::vector<ImapUrlParts> RemoteMailboxEntry::locations() const {
    std::vector<ImapUrlParts> out;
    const size_t n = locationCount();
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.push_back(location(i));
    return out;
}

std::string_view RemoteMailboxEntry::dn() const {
    return table_->dns_.empty() ? std::string_view() : table_->text(table_->dns_[index_]);
}

bool RemoteMailboxEntry::personal() const {
    return (table_->records_[index_].flags & RemoteMailboxTable::kPersonal) != 0;
}

std::optional<std::string> buildReferralUrl(const ImapUrlParts& location,
                                            std::string_view directoryName,
                                            std::string_view inferior, char separator,
                                            std::string_view sessionUser, std::string* error) {
    ImapUrlParts parts = location;
    if (parts.user.empty()) parts.user = std::string(sessionUser);
    parts.auth = "*";  // R2193-12: never let the client fall back to anonymous
    // Without a mailbox in the URL the directory name is the remote name;
    // the directory's '/' is taken as the remote separator (D-19).
    std::string remoteName = location.mailbox.has_value() && !location.mailbox->empty()
                                 ? *location.mailbox
                                 : std::string(directoryName);
    if (!inferior.empty()) {
        remoteName.push_back('/');
        for (char c : inferior) remoteName.push_back(c == separator ? '/' : c);
    }
    parts.mailbox = std::move(remoteName);
    return buildImapUrl(parts, error);
}

std::vector<std::string> buildReferralUrls(const RemoteMailboxMatch& match,
                                           std::string_view sessionUser,
                                           std::vector<std::string>* skipped) {
    std::vector<std::string> urls;
    if (!match.entry.valid()) return urls;
    const std::string directoryName = match.entry.directoryName();
    const size_t n = match.entry.locationCount();
    urls.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const ImapUrlParts loc = match.entry.location(i);
        std::string error;
        std::optional<std::string> url = buildReferralUrl(loc, directoryName, match.inferior,
                                                          match.separator, sessionUser, &error);
        if (!url) {
            if (skipped != nullptr)
                skipped->push_back("location " + quoteForLog(loc.host) + " refused: " + error);
            continue;
        }
        urls.push_back(std::move(*url));
    }
    return urls;
}

}  // namespace dref
