#include "remote_mailbox_table.h"

#include <algorithm>
#include <utility>

#include "mutf7.h"
#include "referral_decision.h"
#include "response_text.h"

namespace dref {
namespace {

constexpr size_t kMaxNameLength = 1024;

// Directory name ('/'-separated) -> vname with the namespace separator.
// Returns an empty string and sets *why when the name cannot be a vname.
std::string toVname(std::string_view dirName, char sep, std::string* why) {
    if (dirName.empty()) {
        *why = "empty mailbox name";
        return {};
    }
    if (dirName.size() > kMaxNameLength) {
        *why = "mailbox name longer than " + std::to_string(kMaxNameLength) + " octets";
        return {};
    }
    if (!isValidUtf8(dirName)) {
        *why = "mailbox name is not valid UTF-8";
        return {};
    }
    std::string out;
    out.reserve(dirName.size());
    size_t levelStart = 0;
    for (size_t i = 0; i <= dirName.size(); ++i) {
        if (i == dirName.size() || dirName[i] == '/') {
            if (i == levelStart) {
                *why = "empty hierarchy level in mailbox name";
                return {};
            }
            if (i != dirName.size()) out.push_back(sep);
            levelStart = i + 1;
            continue;
        }
        char c = dirName[i];
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            *why = "control character in mailbox name";
            return {};
        }
        if (c == '*' || c == '%') {
            *why = "LIST wildcard in mailbox name";
            return {};
        }
        if (c == sep) {
            *why = std::string("mailbox name contains the namespace separator '") + sep + "'";
            return {};
        }
        out.push_back(c);
    }
    return normalizeInboxPrefix(out, sep);
}

// Which of two entries with one vname is kept: personal first, then DN order.
bool preferred(const RemoteMailboxEntry& a, const RemoteMailboxEntry& b) {
    if (a.personal != b.personal) return a.personal;
    return a.dn < b.dn;
}

std::string describe(const RemoteMailbox& m) {
    return "remote mailbox " + quoteForLog(m.name) + " (" + quoteForLog(m.dn) + ")";
}

}  // namespace

RemoteMailboxTable RemoteMailboxTable::build(const std::vector<RemoteMailbox>& mailboxes,
                                             char separator,
                                             const std::vector<std::string>& localNames,
                                             std::vector<std::string>* warnings) {
    auto warn = [&](std::string text) {
        if (warnings != nullptr) warnings->push_back(std::move(text));
    };
    RemoteMailboxTable table;
    table.separator_ = separator;

    std::vector<RemoteMailboxEntry> all;
    all.reserve(mailboxes.size());
    for (const RemoteMailbox& m : mailboxes) {
        std::string why;
        std::string vname = toVname(m.name, separator, &why);
        if (vname.empty()) {
            warn(describe(m) + " skipped: " + why);
            continue;
        }
        RemoteMailboxEntry entry{std::move(vname), m.name, {}, m.dn, m.personal};
        entry.locations.reserve(m.locations.size());
        for (const ImapUrlParts& loc : m.locations) {
            if (isThisServer(HomeServer{loc.host, loc.port}, localNames)) {
                // R2193-3: a referral to ourselves would loop; serve it here.
                warn(describe(m) + ": location " + quoteForLog(loc.host) + ":" +
                     std::to_string(loc.port) + " is this server, treated as local");
                continue;
            }
            entry.locations.push_back(loc);
        }
        if (entry.locations.empty()) {
            warn(describe(m) + " skipped: no usable location, the name stays local");
            continue;
        }
        all.push_back(std::move(entry));
    }
    // Name order, the preferred entry first within one name (sorting
    // indices: the entries themselves are heavy to move).
    std::vector<size_t> order(all.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&all](size_t x, size_t y) {
        const RemoteMailboxEntry& a = all[x];
        const RemoteMailboxEntry& b = all[y];
        int c = a.vname.compare(b.vname);
        if (c != 0) return c < 0;
        return preferred(a, b);
    });
    table.entries_.reserve(all.size());
    for (size_t i : order) {
        RemoteMailboxEntry& e = all[i];
        if (!table.entries_.empty() && table.entries_.back().vname == e.vname) {
            warn("remote mailbox " + quoteForLog(e.directoryName) + " (" + quoteForLog(e.dn) +
                 ") skipped: duplicate name, " + quoteForLog(table.entries_.back().dn) +
                 " is preferred");
            continue;
        }
        table.entries_.push_back(std::move(e));
    }
    table.index_.reserve(table.entries_.size());
    for (size_t i = 0; i < table.entries_.size(); ++i)
        table.index_.emplace(std::string_view(table.entries_[i].vname), i);
    return table;
}

RemoteMailboxTable::RemoteMailboxTable(RemoteMailboxTable&& other) noexcept
    : entries_(std::move(other.entries_)),
      separator_(other.separator_),
      probes_(other.probes_) {
    // The index holds views into the entries' strings; moving a vector keeps
    // its heap buffer, but rebuild anyway so the invariant is local.
    other.index_.clear();
    index_.reserve(entries_.size());
    for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].vname, i);
}

RemoteMailboxTable& RemoteMailboxTable::operator=(RemoteMailboxTable&& other) noexcept {
    if (this != &other) {
        entries_ = std::move(other.entries_);
        separator_ = other.separator_;
        probes_ = other.probes_;
        other.index_.clear();
        index_.clear();
        index_.reserve(entries_.size());
        for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].vname, i);
    }
    return *this;
}

std::optional<RemoteMailboxMatch> RemoteMailboxTable::find(std::string_view vname) const {
    if (entries_.empty() || vname.empty()) return std::nullopt;
    std::string key = normalizeInboxPrefix(vname, separator_);
    std::string_view k(key);
    // Longest covering entry first: the name itself, then each ancestor.
    size_t end = k.size();
    while (true) {
        ++probes_;
        auto it = index_.find(k.substr(0, end));
        if (it != index_.end()) {
            RemoteMailboxMatch match;
            match.entry = &entries_[it->second];
            match.separator = separator_;
            if (end < k.size()) match.inferior = std::string(k.substr(end + 1));
            return match;
        }
        size_t sep = k.rfind(separator_, end == 0 ? 0 : end - 1);
        if (sep == std::string_view::npos || sep == 0) return std::nullopt;
        end = sep;
    }
}

bool RemoteMailboxTable::hasRemoteInferiors(std::string_view vname) const {
    std::string prefix = normalizeInboxPrefix(vname, separator_);
    prefix.push_back(separator_);
    auto it = std::lower_bound(entries_.begin(), entries_.end(), prefix,
                               [](const RemoteMailboxEntry& e, const std::string& p) {
                                   return e.vname < p;
                               });
    return it != entries_.end() && it->vname.compare(0, prefix.size(), prefix) == 0;
}

void RemoteMailboxTable::forEachMatch(
    const ListPattern& pattern,
    const std::function<void(const RemoteMailboxEntry&)>& visit) const {
    auto begin = entries_.begin();
    auto end = entries_.end();
    const std::string& prefix = pattern.literalPrefix();
    if (!pattern.prefixMayMatchInboxCase() && !prefix.empty()) {
        begin = std::lower_bound(entries_.begin(), entries_.end(), prefix,
                                 [](const RemoteMailboxEntry& e, const std::string& p) {
                                     return e.vname < p;
                                 });
        end = begin;
        while (end != entries_.end() && end->vname.compare(0, prefix.size(), prefix) == 0) ++end;
    }
    for (auto it = begin; it != end; ++it)
        if (pattern.matches(it->vname)) visit(*it);
}

std::vector<std::string> buildReferralUrls(const RemoteMailboxMatch& match,
                                           std::string_view sessionUser,
                                           std::vector<std::string>* skipped) {
    std::vector<std::string> urls;
    if (match.entry == nullptr) return urls;
    for (const ImapUrlParts& loc : match.entry->locations) {
        ImapUrlParts parts = loc;
        if (parts.user.empty()) parts.user = std::string(sessionUser);
        parts.auth = "*";  // R2193-12: never let the client fall back to anonymous
        std::string remoteName = loc.mailbox.has_value() && !loc.mailbox->empty()
                                     ? *loc.mailbox
                                     : std::string();
        // Without a mailbox in the URL the directory name is the remote
        // name; the directory's '/' is taken as the remote separator (D-19).
        if (remoteName.empty()) remoteName = match.entry->directoryName;
        if (!match.inferior.empty()) {
            remoteName.push_back('/');
            for (char c : match.inferior) remoteName.push_back(c == match.separator ? '/' : c);
        }
        parts.mailbox = remoteName;
        std::string error;
        std::optional<std::string> url = buildImapUrl(parts, &error);
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
