#pragma once
// The user's remote mailboxes (RFC 2193) as the imap plugin consults them on
// every mailbox command: built once per directory answer, read-only after.
//
// Keys are Dovecot vnames: UTF-8, with the namespace's hierarchy separator,
// a first level "INBOX" upper-cased (RFC 3501 §5.1: INBOX is
// case-insensitive).  An entry covers the mailbox and all its inferiors (a
// subtree that moved to another server); when entries nest, the longest one
// wins (the more specific placement).  A lookup costs one hash probe per
// hierarchy level of the name, never a scan of the table.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "imap_url.h"
#include "list_pattern.h"
#include "remote_mailbox.h"

namespace dref {

struct RemoteMailboxEntry {
    std::string vname;                    // key (see above)
    std::string directoryName;            // as stored: UTF-8, '/'-separated
    std::vector<ImapUrlParts> locations;  // preferred first (R2193-9)
    std::string dn;
    bool personal = false;
};

struct RemoteMailboxMatch {
    const RemoteMailboxEntry* entry = nullptr;
    // The part of the looked-up name below the entry, with the namespace
    // separator and without the leading one: "" for the entry itself,
    // "2026/Q1" for Shared/Projects/2026/Q1 under Shared/Projects.
    std::string inferior;
    char separator = '/';  // the namespace separator used in `inferior`
};

class RemoteMailboxTable {
public:
    RemoteMailboxTable() = default;
    // The index refers into the entries: moves rebuild it, copies are not needed.
    RemoteMailboxTable(RemoteMailboxTable&& other) noexcept;
    RemoteMailboxTable& operator=(RemoteMailboxTable&& other) noexcept;
    RemoteMailboxTable(const RemoteMailboxTable&) = delete;
    RemoteMailboxTable& operator=(const RemoteMailboxTable&) = delete;

    // Converts directory names ('/'-separated UTF-8) to vnames with
    // `separator`, normalises INBOX, and indexes them.  Entries that cannot
    // be represented (empty levels, the namespace separator inside a level,
    // no location) are skipped; of several entries with one name a personal
    // entry beats a shared one, then the smallest DN wins.  Locations that
    // name this server (isThisServer with `localNames`) are dropped, and an
    // entry left without locations is skipped, so the name stays local:
    // never a referral back to ourselves (R2193-3).  One warning per skipped
    // entry or location is appended to *warnings (values quoted for logs).
    static RemoteMailboxTable build(const std::vector<RemoteMailbox>& mailboxes, char separator,
                                    const std::vector<std::string>& localNames,
                                    std::vector<std::string>* warnings);

    // The entry covering `vname` (itself or an ancestor), or nullopt.
    std::optional<RemoteMailboxMatch> find(std::string_view vname) const;

    // True when some entry lies strictly below `vname` (so `vname` is a
    // hierarchy level leading to remote mailboxes).
    bool hasRemoteInferiors(std::string_view vname) const;

    // Calls `visit` for every entry whose vname matches `pattern`, in vname
    // order.  Uses the pattern's literal prefix to skip non-candidates.
    void forEachMatch(const ListPattern& pattern,
                      const std::function<void(const RemoteMailboxEntry&)>& visit) const;

    const std::vector<RemoteMailboxEntry>& entries() const { return entries_; }  // vname order
    size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    char separator() const { return separator_; }

    // Hash probes made by find() since construction: lets tests check the
    // cost of a lookup without timing it.
    uint64_t probes() const { return probes_; }

private:
    std::vector<RemoteMailboxEntry> entries_;  // sorted by vname
    std::unordered_map<std::string_view, size_t> index_;  // views into entries_[i].vname
    char separator_ = '/';
    mutable uint64_t probes_ = 0;
};

// The referral URLs for a match (R2193-5..9, D-19): one per location,
// preferred first.  The URL's mailbox is the remote server's name for the
// entry (the location's mailbox, else the entry's directory name with '/'),
// with the inferior appended using the remote separator '/'.  The user is
// the location's user when the directory URL carries one, else `sessionUser`.
// ;AUTH=* always.  Locations the URL builder refuses are left out with a
// reason in *skipped.
std::vector<std::string> buildReferralUrls(const RemoteMailboxMatch& match,
                                           std::string_view sessionUser,
                                           std::vector<std::string>* skipped);

}  // namespace dref
