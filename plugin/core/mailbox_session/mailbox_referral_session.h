#pragma once
// Per-session state of the imap plugin (plugin/imap) and every decision it
// takes, with no Dovecot include: the glue feeds Dovecot's state in and
// carries the verdicts out.
//
// A session knows the user's remote mailbox table (loaded asynchronously by
// the glue), whether the client opted in to referrals (D-8: it used RLIST,
// RLSUB or LIST (REMOTE)), and answers, for a mailbox name and a command, whether the name is
// served locally, referred (NO [REFERRAL ...], R2193-19/-21/-23/-26), or
// answered as Dovecot answers for a name that does not exist here.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "owner_listing.h"
#include "remote_mailbox_table.h"
#include "settings.h"

namespace dref {

enum class MailboxCommand {
    Select, Examine, Status, Append, Create, Delete, Rename, Subscribe, Unsubscribe,
    Copy,  // COPY, and REPLACE (RFC 8508): a save into a destination mailbox
    Move,
    List,   // LIST, LSUB, RLIST, RLSUB: never referred (R2193-15)
    Other,  // any other command that opens a mailbox (GETMETADATA, ...): never referred
};

// "select", "UID MOVE", ... -> the command kind (case-insensitive).
MailboxCommand classifyCommand(std::string_view imapCommandName);
const char* mailboxCommandName(MailboxCommand c);

struct MailboxVerdict {
    enum class Kind {
        Local,        // not a remote name: Dovecot handles it
        Refer,        // `error` is "[REFERRAL <url> ...] <text>"
        Nonexistent,  // answer as for a mailbox that does not exist here
        Refuse,       // a plain NO with `error` as text (no referral for this command)
    };
    Kind kind = Kind::Local;
    std::string error;
    size_t urlCount = 0;
    std::string target;               // first URL, for the log line (R2193-30)
    std::vector<std::string> notes;   // locations left out, for the log
};

enum class TableState { Loading, Ready, Unavailable };

class MailboxReferralSession {
public:
    MailboxReferralSession(std::shared_ptr<const Settings> settings, std::string user);

    const std::string& user() const { return user_; }
    const Settings& settings() const { return *settings_; }
    bool enabled() const { return settings_->mailbox.enabled; }

    // Table life cycle.  While Loading, mailbox commands wait (glue); when
    // the directory fails the session serves local mailboxes only and the
    // remote names are unknown (Unavailable).  A refresh keeps the old table
    // until the new one arrives.
    TableState state() const { return state_; }
    void startLoading(int64_t nowMs);
    void tableLoaded(RemoteMailboxTable&& table, int64_t nowMs);
    void tableUnavailable(int64_t nowMs);
    bool refreshDue(int64_t nowMs) const;
    // The table just loaded is a copy of an answer ageMs old (the mailbox
    // cache file): its refresh falls due cache_ttl after that answer, so the
    // copy never keeps a directory change away longer than cache_ttl.
    void tableAged(int64_t ageMs) { loadedAtMs_ -= ageMs > 0 ? ageMs : 0; }
    bool refreshing() const { return refreshing_; }
    void startRefresh() { refreshing_ = true; }
    const RemoteMailboxTable& table() const { return table_; }
    // What owning servers listed below the entries (issue 12 item 4), kept
    // for cache_ttl (failures for negative_cache_ttl); entries that leave
    // the table are forgotten when a new table arrives.
    OwnerListingCache& ownerListings() { return ownerListings_; }
    // True when relay credentials are configured: listings may ask owners
    // for the mailboxes below a remote entry.
    bool asksOwners() const {
        return !settings_->mailbox.relayMasterUser.empty() &&
               !settings_->mailbox.relayMasterPassword.empty();
    }

    // D-8: with mailbox_referral_mode = opt-in, referrals start after the
    // client's first RLIST or RLSUB.
    void optIn() { optedIn_ = true; }
    bool referralsAllowed() const;

    // True when the name is remote (itself or below an entry): it is then
    // never listed by LIST/LSUB nor opened locally.
    bool isRemote(std::string_view vname) const;

    MailboxVerdict decide(std::string_view vname, MailboxCommand command) const;
    // RENAME: referred only with mailbox_referral_rename (D-6), as pairs of
    // URLs old,new per location of the old name (R2193-23).
    MailboxVerdict decideRename(std::string_view oldName, std::string_view newName) const;

private:
    MailboxVerdict refer(const RemoteMailboxMatch& match) const;
    MailboxVerdict referralFromUrls(const std::vector<std::string>& urls,
                                    std::vector<std::string> notes) const;
    std::string text() const;

    std::shared_ptr<const Settings> settings_;
    std::string user_;
    RemoteMailboxTable table_;
    TableState state_ = TableState::Loading;
    int64_t loadedAtMs_ = 0;
    bool refreshing_ = false;
    bool optedIn_ = false;
    OwnerListingCache ownerListings_;
};

}  // namespace dref
