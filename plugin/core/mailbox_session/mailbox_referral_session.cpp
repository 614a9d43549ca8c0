#include "mailbox_referral_session.h"

#include <algorithm>
#include <utility>

#include "response_text.h"

namespace dref {
namespace {

// Case-insensitive equality with an upper-case ASCII keyword, without a copy.
bool isKeyword(std::string_view name, std::string_view keyword) {
    if (name.size() != keyword.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != keyword[i]) return false;
    }
    return true;
}

}  // namespace

MailboxCommand classifyCommand(std::string_view name) {
    // Called for every mailbox access of a command: no allocation.
    if (name.size() > 4 && isKeyword(name.substr(0, 4), "UID ")) name.remove_prefix(4);
    struct Kind {
        std::string_view keyword;
        MailboxCommand command;
    };
    static constexpr Kind kKinds[] = {
        {"SELECT", MailboxCommand::Select},   {"EXAMINE", MailboxCommand::Examine},
        {"STATUS", MailboxCommand::Status},   {"APPEND", MailboxCommand::Append},
        {"CREATE", MailboxCommand::Create},   {"DELETE", MailboxCommand::Delete},
        {"RENAME", MailboxCommand::Rename},   {"SUBSCRIBE", MailboxCommand::Subscribe},
        {"UNSUBSCRIBE", MailboxCommand::Unsubscribe}, {"COPY", MailboxCommand::Copy},
        {"MOVE", MailboxCommand::Move},       {"LIST", MailboxCommand::List},
        // RFC 8508 (Dovecot 2.4): saves into a destination mailbox and
        // expunges the source message only if that succeeds, so a remote
        // destination is answered as COPY's (NO [CANNOT], or a referral with
        // mailbox_referral_copy), never as "doesn't exist" + TRYCREATE.
        {"REPLACE", MailboxCommand::Copy},
        {"LSUB", MailboxCommand::List},       {"RLIST", MailboxCommand::List},
        {"RLSUB", MailboxCommand::List},
    };
    for (const Kind& k : kKinds)
        if (isKeyword(name, k.keyword)) return k.command;
    return MailboxCommand::Other;
}

const char* mailboxCommandName(MailboxCommand c) {
    switch (c) {
        case MailboxCommand::Select: return "SELECT";
        case MailboxCommand::Examine: return "EXAMINE";
        case MailboxCommand::Status: return "STATUS";
        case MailboxCommand::Append: return "APPEND";
        case MailboxCommand::Create: return "CREATE";
        case MailboxCommand::Delete: return "DELETE";
        case MailboxCommand::Rename: return "RENAME";
        case MailboxCommand::Subscribe: return "SUBSCRIBE";
        case MailboxCommand::Unsubscribe: return "UNSUBSCRIBE";
        case MailboxCommand::Copy: return "COPY";
        case MailboxCommand::Move: return "MOVE";
        case MailboxCommand::List: return "LIST";
        case MailboxCommand::Other: return "other";
    }
    return "other";
}

MailboxReferralSession::MailboxReferralSession(std::shared_ptr<const Settings> settings, std::string user)
    : settings_(std::move(settings)),
      user_(std::move(user)),
      ownerListings_(settings_->directory.cacheTtlMs, settings_->directory.negativeCacheTtlMs) {}

void MailboxReferralSession::startLoading(int64_t) {
    state_ = TableState::Loading;
    refreshing_ = true;
}

void MailboxReferralSession::tableLoaded(RemoteMailboxTable&& table, int64_t nowMs) {
    table_ = std::move(table);
    state_ = TableState::Ready;
    loadedAtMs_ = nowMs;
    refreshing_ = false;
    ownerListings_.retainEntriesOf(table_);
}

void MailboxReferralSession::tableUnavailable(int64_t nowMs) {
    // A refresh that fails keeps the table we have: the names stay remote
    // rather than flipping to local for one cache period.
    if (state_ != TableState::Ready) state_ = TableState::Unavailable;
    loadedAtMs_ = nowMs;
    refreshing_ = false;
}

bool MailboxReferralSession::refreshDue(int64_t nowMs) const {
    if (!enabled() || refreshing_ || state_ == TableState::Loading) return false;
    int64_t ttl = state_ == TableState::Ready ? settings_->directory.cacheTtlMs
                                              : settings_->directory.negativeCacheTtlMs;
    return nowMs - loadedAtMs_ >= ttl;
}

bool MailboxReferralSession::referralsAllowed() const {
    return enabled() && (settings_->mailbox.mode == MailboxReferralMode::Always || optedIn_);
}

bool MailboxReferralSession::isRemote(std::string_view vname) const {
    return enabled() && table_.find(vname).has_value();
}

std::string MailboxReferralSession::text() const {
    return sanitizeResponseText(settings_->mailbox.referralText, "Remote mailbox.");
}

MailboxVerdict MailboxReferralSession::referralFromUrls(const std::vector<std::string>& urls,
                                             std::vector<std::string> notes) const {
    MailboxVerdict v;
    v.notes = std::move(notes);
    if (urls.empty()) {
        // Every location was refused by the URL builder: no referral can be
        // written, and the name must not open locally either.
        v.kind = MailboxVerdict::Kind::Nonexistent;
        return v;
    }
    v.kind = MailboxVerdict::Kind::Refer;
    v.urlCount = urls.size();
    v.target = urls.front();
    v.error = "[REFERRAL";
    for (const std::string& u : urls) {
        v.error.push_back(' ');
        v.error.append(u);
    }
    v.error.append("] ");
    v.error.append(text());
    return v;
}

MailboxVerdict MailboxReferralSession::refer(const RemoteMailboxMatch& match) const {
    std::vector<std::string> notes;
    std::vector<std::string> urls = buildReferralUrls(match, user_, &notes);
    return referralFromUrls(urls, std::move(notes));
}

MailboxVerdict MailboxReferralSession::decide(std::string_view vname, MailboxCommand command) const {
    MailboxVerdict v;
    if (!enabled()) return v;
    std::optional<RemoteMailboxMatch> match = table_.find(vname);
    if (!match) return v;
    if (!referralsAllowed()) {
        // D-8: a client that never asked for remote mailboxes sees none.
        v.kind = command == MailboxCommand::Create ? MailboxVerdict::Kind::Refuse
                                                   : MailboxVerdict::Kind::Nonexistent;
        v.error = "Mailbox name is reserved for a remote mailbox.";
        return v;
    }
    const MailboxSettings& ms = settings_->mailbox;
    switch (command) {
        case MailboxCommand::Select:
        case MailboxCommand::Examine:
        case MailboxCommand::Append:
        case MailboxCommand::Delete:
        case MailboxCommand::Subscribe:
        case MailboxCommand::Unsubscribe:
            return refer(*match);
        case MailboxCommand::Status:
            if (ms.referStatus) return refer(*match);
            v.kind = MailboxVerdict::Kind::Nonexistent;  // D-9
            return v;
        case MailboxCommand::Create:
            if (ms.referCreate) return refer(*match);  // R2193-21
            v.kind = MailboxVerdict::Kind::Refuse;
            v.error = "Mailbox name is reserved for a remote mailbox.";
            return v;
        case MailboxCommand::Copy:
        case MailboxCommand::Move:
            if (ms.referCopy) return refer(*match);  // R2193-26
            v.kind = MailboxVerdict::Kind::Refuse;
            v.error = "Destination mailbox is on another server.";
            return v;
        case MailboxCommand::Rename:
            return decideRename(vname, vname);
        case MailboxCommand::List:
        case MailboxCommand::Other:
            v.kind = MailboxVerdict::Kind::Nonexistent;
            return v;
    }
    return v;
}

MailboxVerdict MailboxReferralSession::decideRename(std::string_view oldName, std::string_view newName) const {
    MailboxVerdict v;
    if (!enabled()) return v;
    std::optional<RemoteMailboxMatch> from = table_.find(oldName);
    std::optional<RemoteMailboxMatch> to = table_.find(newName);
    if (!from && !to) return v;
    if (!referralsAllowed()) {
        v.kind = from ? MailboxVerdict::Kind::Nonexistent : MailboxVerdict::Kind::Refuse;
        v.error = "Mailbox name is reserved for a remote mailbox.";
        return v;
    }
    if (!settings_->mailbox.referRename || !from) {
        // D-6 (c-client's REFRENAME contract), or a local mailbox moving
        // into a remote subtree: no server can do that in one RENAME.
        v.kind = MailboxVerdict::Kind::Refuse;
        v.error = "Cannot rename: the mailbox is on another server.";
        return v;
    }
    // R2193-23: pairs (old URL, new URL), one pair per location of the old
    // name; the new name is on the same server unless the directory places
    // it elsewhere.
    std::vector<std::string> urls, notes;
    const RemoteMailboxEntry& entry = from->entry;
    const std::string oldDirName = entry.directoryName();
    std::string newDirName(newName);
    std::replace(newDirName.begin(), newDirName.end(), table_.separator(), '/');
    const std::string toDirName = to ? to->entry.directoryName() : std::string();
    // One URL, or none with a note (as buildReferralUrls for one location).
    auto oneUrl = [&](const ImapUrlParts& loc, std::string_view dirName, std::string_view inferior,
                      char separator) {
        std::string error;
        std::optional<std::string> url =
            buildReferralUrl(loc, dirName, inferior, separator, user_, &error);
        if (!url) notes.push_back("location " + quoteForLog(loc.host) + " refused: " + error);
        return url;
    };
    const size_t count = entry.locationCount();
    for (size_t i = 0; i < count; ++i) {
        const ImapUrlParts oldLoc = entry.location(i);
        std::optional<std::string> oldUrl =
            oneUrl(oldLoc, oldDirName, from->inferior, from->separator);
        std::optional<std::string> newUrl;
        if (to) {
            const size_t n = to->entry.locationCount();
            newUrl = oneUrl(to->entry.location(std::min(i, n - 1)), toDirName, to->inferior,
                            to->separator);
        } else {
            // A name the directory does not list, on the old location's
            // server: that location with the new name as mailbox.
            ImapUrlParts target = oldLoc;
            target.mailbox.reset();
            newUrl = oneUrl(target, newDirName, "", '/');
        }
        if (oldUrl && newUrl) {
            urls.push_back(std::move(*oldUrl));
            urls.push_back(std::move(*newUrl));
        }
    }
    return referralFromUrls(urls, std::move(notes));
}

}  // namespace dref
