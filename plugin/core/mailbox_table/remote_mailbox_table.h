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
//
// Layout (memory: the imap process holds one table per session, up to
// mailbox_max_entries entries): every string lives once in one arena;
// entries, locations and the servers they name are small fixed-size records
// with offsets into it, and the index is an open-addressing hash of record
// numbers.  A location's mailbox equal to the directory name, the directory
// name derivable from the vname, and repeated servers (host, port, user,
// auth) are not stored again.  Entries are read through RemoteMailboxEntry
// views.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "imap_url.h"
#include "list_pattern.h"
#include "remote_mailbox.h"
#include "target_verdicts.h"

namespace dref {

class RemoteMailboxTable;

// One entry of a table, read in place: valid while that table lives and is
// not moved or assigned to.  Cheap to copy (a pointer and an index).
class RemoteMailboxEntry {
public:
    RemoteMailboxEntry() = default;
    bool valid() const { return table_ != nullptr; }
    size_t index() const { return index_; }  // position in vname order

    std::string_view vname() const;     // key (see above)
    std::string directoryName() const;  // as stored: UTF-8, '/'-separated
    size_t locationCount() const;
    ImapUrlParts location(size_t i) const;      // preferred first (R2193-9)
    std::vector<ImapUrlParts> locations() const;
    // The directory entry's DN: "" unless the table was built with
    // EntryDns::Kept (nothing in the imap plugin needs it after the build).
    std::string_view dn() const;
    bool personal() const;

    bool operator==(const RemoteMailboxEntry& o) const {
        return table_ == o.table_ && index_ == o.index_;
    }
    bool operator!=(const RemoteMailboxEntry& o) const { return !(*this == o); }

private:
    friend class RemoteMailboxTable;
    RemoteMailboxEntry(const RemoteMailboxTable* table, uint32_t index)
        : table_(table), index_(index) {}
    const RemoteMailboxTable* table_ = nullptr;
    uint32_t index_ = 0;
};

struct RemoteMailboxMatch {
    RemoteMailboxEntry entry;
    // The part of the looked-up name below the entry, with the namespace
    // separator and without the leading one: "" for the entry itself,
    // "2026/Q1" for Shared/Projects/2026/Q1 under Shared/Projects.
    std::string inferior;
    char separator = '/';  // the namespace separator used in `inferior`
};

// Whether build() keeps the entries' DNs (for diagnostics such as the
// lookup tool); they are used for conflict resolution and warnings either way.
enum class EntryDns { Dropped, Kept };

class RemoteMailboxTable {
public:
    // The entries in vname order, as views.
    class EntryRange {
    public:
        class iterator {
        public:
            using iterator_category = std::forward_iterator_tag;
            using value_type = RemoteMailboxEntry;
            using difference_type = std::ptrdiff_t;
            using pointer = void;
            using reference = RemoteMailboxEntry;
            iterator(const RemoteMailboxTable* t, uint32_t i) : table_(t), i_(i) {}
            RemoteMailboxEntry operator*() const { return RemoteMailboxEntry(table_, i_); }
            iterator& operator++() {
                ++i_;
                return *this;
            }
            bool operator==(const iterator& o) const { return i_ == o.i_ && table_ == o.table_; }
            bool operator!=(const iterator& o) const { return !(*this == o); }

        private:
            const RemoteMailboxTable* table_;
            uint32_t i_;
        };
        explicit EntryRange(const RemoteMailboxTable* t) : table_(t) {}
        iterator begin() const { return iterator(table_, 0); }
        iterator end() const { return iterator(table_, static_cast<uint32_t>(table_->size())); }
        size_t size() const { return table_->size(); }
        bool empty() const { return table_->empty(); }
        RemoteMailboxEntry operator[](size_t i) const {
            return RemoteMailboxEntry(table_, static_cast<uint32_t>(i));
        }

    private:
        const RemoteMailboxTable* table_;
    };

    RemoteMailboxTable() = default;
    // Entry views refer to the table object: moving invalidates them (the
    // records and the index move with their buffers).  Copies are not needed.
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
    // never a referral back to ourselves (R2193-3).  Locations whose host is
    // not allowed by `allowedHosts` (isAllowedTarget; REQUIREMENTS §2.6 item
    // 3) are dropped the same way.  One warning per skipped entry or location
    // is appended to *warnings (values quoted for logs).
    static RemoteMailboxTable build(const std::vector<RemoteMailbox>& mailboxes, char separator,
                                    const std::vector<std::string>& localNames,
                                    const std::vector<std::string>& allowedHosts,
                                    std::vector<std::string>* warnings,
                                    EntryDns dns = EntryDns::Dropped);

    // build() one entry at a time, for a caller that has the entries one by
    // one and keeps no list of them: the imap process decodes the
    // referral-directory service's answer straight into its table (issue 13
    // item 4: the list of 1,000 decoded RemoteMailbox objects was ~400 kB of
    // fresh heap, a hundred page faults, per session start).  add() takes
    // what build() reads of one input entry, in input order; finish() gives
    // the table build() gives for those entries, with the same warnings in
    // the same order.  The lists and *warnings are referred to, not copied:
    // they must outlive the builder.
    class Builder final : public RemoteMailboxSink {
    public:
        Builder(char separator, const std::vector<std::string>& localNames,
                const std::vector<std::string>& allowedHosts, std::vector<std::string>* warnings,
                EntryDns dns = EntryDns::Dropped);
        void reserve(size_t entries) override;
        void add(const RemoteMailboxView& mailbox) override;
        // The table; the builder is spent.
        RemoteMailboxTable finish();

    private:
        // An entry that passed the checks, before sorting and duplicate
        // removal: its texts in scratch_, its usable locations in pending_.
        struct Candidate {
            uint32_t input;          // position among the add() calls
            uint32_t nameOffset;     // vname in scratch_
            uint32_t nameLength;
            uint32_t dirOffset;      // the directory name in scratch_
            uint32_t dirLength;
            uint32_t dnOffset;       // the DN in scratch_
            uint32_t dnLength;
            uint32_t firstLocation;  // its usable locations in pending_
            uint32_t locationCount;
            bool personal;
        };
        struct PendingLocation {
            uint32_t server;  // in servers_ (of this builder)
            uint32_t mailboxOffset;
            uint32_t mailboxLength;
            uint32_t uidValidity;
            uint8_t flags;  // Location::flags
        };
        struct PendingServer {
            std::string host, user, auth;
            uint16_t port;
        };
        std::string_view scratchText(uint32_t offset, uint32_t length) const {
            return std::string_view(scratch_).substr(offset, length);
        }
        uint32_t keepText(std::string_view s);
        uint32_t serverOf(const ImapUrlParts& location);
        void warn(std::string text);

        char separator_;
        EntryDns dns_;
        std::vector<std::string>* warnings_;
        TargetVerdicts verdicts_;
        std::string scratch_;
        std::vector<Candidate> candidates_;
        std::vector<PendingLocation> pending_;
        std::vector<PendingServer> servers_;
        std::unordered_map<std::string, uint32_t> serverIds_;  // host\0port\0user\0auth
        uint32_t lastServer_ = UINT32_MAX;  // the previous location's, reused without a probe
        uint32_t inputs_ = 0;
    };

    // The entry covering `vname` (itself or an ancestor), or nullopt.
    std::optional<RemoteMailboxMatch> find(std::string_view vname) const;

    // True when some entry lies strictly below `vname` (so `vname` is a
    // hierarchy level leading to remote mailboxes).
    bool hasRemoteInferiors(std::string_view vname) const;

    // Calls `visit` for every entry whose vname matches `pattern`, in vname
    // order.  Uses the pattern's literal prefix to skip non-candidates.
    void forEachMatch(const ListPattern& pattern,
                      const std::function<void(const RemoteMailboxEntry&)>& visit) const;

    EntryRange entries() const { return EntryRange(this); }  // vname order
    size_t size() const { return records_.size(); }
    bool empty() const { return records_.empty(); }
    char separator() const { return separator_; }

    // Heap bytes the table holds (capacities of its buffers) plus the object
    // itself: what one loaded table costs the imap process.
    size_t memoryBytes() const;

    // Hash probes made by find() since construction: lets tests check the
    // cost of a lookup without timing it.  One probe is one name looked up
    // in the index (one hierarchy level), however many slots it visits.
    uint64_t probes() const { return probes_; }

private:
    friend class RemoteMailboxEntry;
    // Record::flags
    static constexpr uint8_t kPersonal = 1;
    static constexpr uint8_t kStoredDirectoryName = 2;  // in directoryNames_: INBOX re-cased
    // Location::flags
    static constexpr uint8_t kHasMailbox = 1;              // mailbox in the arena
    static constexpr uint8_t kMailboxIsDirectoryName = 2;  // mailbox = the directory name
    static constexpr uint8_t kHasUidValidity = 4;

    struct Text {  // a string in arena_
        uint32_t offset = 0;
        uint32_t length = 0;
    };
    struct Record {  // one entry
        uint32_t nameOffset;
        uint32_t firstLocation;  // its locations: [firstLocation, next record's)
        uint16_t nameLength;
        uint8_t flags;
    };
    struct Server {  // host, port, user and auth shared by locations
        Text host, user, auth;
        uint16_t port;
    };
    struct Location {
        uint32_t server;
        uint32_t mailboxOffset;
        uint32_t uidValidity;
        uint16_t mailboxLength;
        uint8_t flags;
    };
    struct Slot {  // index_: record + 1 (0 = free), and its name's hash
        uint32_t hash;
        uint32_t record;
    };
    struct DirectoryName {  // a directory name that the vname does not give back
        uint32_t record;
        Text name;
    };

    std::string_view text(Text t) const {
        return std::string_view(arena_).substr(t.offset, t.length);
    }
    std::string_view nameOf(uint32_t record) const {
        const Record& r = records_[record];
        return std::string_view(arena_.data() + r.nameOffset, r.nameLength);
    }
    size_t lowerBound(std::string_view name) const;
    int32_t lookup(std::string_view name, uint32_t hash) const;
    void buildIndex();

    std::string arena_;
    std::vector<Record> records_;     // sorted by vname
    std::vector<Location> locations_;
    std::vector<Server> servers_;
    std::vector<DirectoryName> directoryNames_;  // by record, rare
    std::vector<Text> dns_;                      // per record, EntryDns::Kept only
    std::vector<Slot> index_;                    // power-of-two size, at most half full
    uint32_t maxNameLength_ = 0;
    char separator_ = '/';
    mutable uint64_t probes_ = 0;
};

// The referral URL for one location of a name (R2193-5..9, D-19): the URL's
// mailbox is the remote server's name for the entry (the location's
// mailbox, else `directoryName`), with `inferior` appended using the remote
// separator '/' (its `separator` characters converted).  The user is the
// location's user when it has one, else `sessionUser`.  ;AUTH=* always.
// nullopt with *error when the URL builder refuses the location.
std::optional<std::string> buildReferralUrl(const ImapUrlParts& location,
                                            std::string_view directoryName,
                                            std::string_view inferior, char separator,
                                            std::string_view sessionUser, std::string* error);

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
