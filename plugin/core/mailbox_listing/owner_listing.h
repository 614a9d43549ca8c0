#pragma once
// The mailboxes an owning server lists below one remote entry (issue 12
// item 4, RFC 2193 §4: remote mailboxes "and their inferiors ... MUST appear
// in RLIST"): the check of the owner's answer, which is as untrusted as a
// directory value, and the session's cache of those answers.
//
// The glue asks the owner through the entry's relay namespace (Dovecot's
// imapc storage, docs/mailbox-relay.md), which already maps the owner's
// names into the user's view: the names given to validateOwnerListing() are
// vnames below the entry.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "relay_connection.h"
#include "remote_mailbox_table.h"

namespace dref {

struct OwnerMailbox {
    std::string vname;      // in the user's view, strictly below its entry
    bool noselect = false;  // the owner says \Noselect or \NonExistent (a level only)
};

// At most this many names are kept per entry: a hostile or huge answer
// costs the session no more than this (the rest is dropped with a warning).
constexpr size_t kMaxOwnerNamesPerEntry = 10000;

// imapc keeps every name of an owner's LIST answer in its own mailbox tree
// while the answer arrives (imapc-list.c: imapc_untagged_list()), before
// the plugin reads any, and resets its command timeout on every line: an
// owner that streams names without end would grow the imap process until
// vsz_limit.  The relay's reply filter hands imapc at most this many names
// of one answer (twice the cut above: an owner with more names below one
// entry cannot be listed through the relay), then drops the owner's
// connection.  Not more: imapc's tree takes time that grows faster than
// the answer (100,000 names cost the imap process 22-26 s of CPU in the
// lab, 20,000 about a second).
constexpr size_t kMaxOwnerRepliesPerAnswer = 2 * kMaxOwnerNamesPerEntry;

// True when a name that would be the `passed`-th of one answer (counting
// from 1) must not reach imapc.
constexpr bool ownerAnswerOverBound(size_t passed) noexcept {
    return passed > kMaxOwnerRepliesPerAnswer;
}

// The names of `raw` that may be shown below `entry` of `table`: strictly
// below the entry (entry + separator + more), valid UTF-8 without control
// characters or LIST wildcards, no empty, "." or ".." level, at most 1024
// octets, and
// not inside a longer entry of the table (that subtree belongs to the other
// entry, possibly on another server).  Duplicates are merged (\Noselect only
// if every copy says so).  Sorted by vname, at most `maxNames`.  One warning
// per kind of refusal is appended to *warnings (values quoted for logs).
std::vector<OwnerMailbox> validateOwnerListing(const RemoteMailboxTable& table,
                                               const RemoteMailboxEntry& entry,
                                               std::vector<OwnerMailbox> raw, size_t maxNames,
                                               std::vector<std::string>* warnings);

// Whether an untagged LIST or LSUB reply of an owning server may reach
// Dovecot's imapc list of a relay namespace whose imapc_list_prefix is
// `prefix` (the owner's wire name of the entry, modified UTF-7): the name
// must be the prefix itself, below it (`prefix` + the reply's separator
// `sep` + more, no "." or ".." level), or "" (the answer to imapc's
// LIST "" "" separator lookup),
// and printable ASCII as modified UTF-7 is (imapc would escape control
// characters into the name instead of refusing it).  imapc asks
// LIST "" "<prefix>*", which also matches siblings such as "<prefix>Old",
// and it asserts that every answer is at or below the prefix: Dovecot
// 2.3.19.1 and 2.4.1 panic on any other name (imapc-list.c:
// imapc_list_get_vname()), so the glue drops such replies before imapc sees
// them.  Sibling: printable and beginning with the prefix but not below it
// (expected from imapc's own pattern); Refuse: anything else not accepted.
// No allocation, no exception: called from imapc's input handler.
enum class OwnerListReply { Accept, Sibling, Refuse };
OwnerListReply classifyOwnerListReply(std::string_view name, std::string_view prefix,
                                      char sep) noexcept;

// Whether a listing may add a relay namespace (a connection to an owner)
// just to ask what lies below an entry: only when every entry of the table
// fits within mailbox_relay_max_mailboxes.  Otherwise a LIST at login would
// take the slots that later commands on other entries need (they would get
// NO [LIMIT]); the listing then asks only through relay namespaces the
// session already has, and lists the other entries as the directory holds
// them.
bool listingMayAddRelayNamespaces(const RemoteMailboxTable& table,
                                  const RelayConnectionSettings& relay);

// Per session (docs/mailbox-relay.md §2.1): every imap session is its own
// process in Dovecot's default mode, and what an owner lists depends on the
// user's rights there, so a cache across users or processes would be wrong
// or useless.  An answer is used for cache_ttl, a failure (owner down,
// refused login) for negative_cache_ttl: within that time LIST lists the
// entry without inferiors instead of waiting for the owner again.
class OwnerListingCache {
public:
    OwnerListingCache(int64_t ttlMs, int64_t failureTtlMs)
        : ttlMs_(ttlMs), failureTtlMs_(failureTtlMs) {}

    // True when the owner of `entry` must be asked (never asked, or the last
    // answer or failure expired).
    bool due(std::string_view entry, int64_t nowMs) const;
    void storeAnswer(std::string_view entry, std::vector<OwnerMailbox> names, int64_t nowMs);
    void storeFailure(std::string_view entry, int64_t nowMs);
    // The names of the last answer while it is fresh; nullptr when unknown
    // (never asked, expired, or the last attempt failed).
    const std::vector<OwnerMailbox>* names(std::string_view entry, int64_t nowMs) const;
    // Forgets entries that are no longer in `table` (after a directory
    // refresh): the cache never outgrows the table.
    void retainEntriesOf(const RemoteMailboxTable& table);
    size_t size() const { return items_.size(); }

private:
    struct Item {
        std::vector<OwnerMailbox> names;
        int64_t atMs = 0;
        bool failed = false;
    };
    int64_t ttlMs_;
    int64_t failureTtlMs_;
    std::map<std::string, Item, std::less<>> items_;
};

}  // namespace dref
