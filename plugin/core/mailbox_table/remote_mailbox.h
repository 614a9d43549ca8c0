#pragma once
// A mailbox that lives on another server (RFC 2193 "remote mailbox").
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "imap_url.h"

namespace dref {

struct RemoteMailbox {
    // Name as the user sees it at home: UTF-8, hierarchy separator '/' as
    // stored in the directory (imapMailboxName); the imap plugin converts it
    // to the namespace's separator.  Covers the mailbox and its inferiors.
    std::string name;
    // Where it lives, preferred first (R2193-8, R2193-9): parsed and validated
    // imapMailboxURL values.  The mailbox part is the remote server's name for
    // it (D-19); when the URL has no mailbox part, `name` is used.
    std::vector<ImapUrlParts> locations;
    std::string dn;
    bool personal = false;  // below the user's entry (vs shared base)
};

// A remote mailbox read in place, as the table's build takes it: from a
// RemoteMailbox, or from a decoder's scratch buffers (the service's answer
// decoded straight into the table, issue 13 item 4).  Valid while what it
// points into is.
struct RemoteMailboxView {
    std::string_view name;
    std::string_view dn;
    bool personal = false;
    const ImapUrlParts* locations = nullptr;
    size_t locationCount = 0;
};

inline RemoteMailboxView viewOf(const RemoteMailbox& m) {
    return RemoteMailboxView{m.name, m.dn, m.personal, m.locations.data(), m.locations.size()};
}

// Where a decoder puts remote mailboxes one by one instead of into a list
// (RemoteMailboxTable::Builder).
class RemoteMailboxSink {
public:
    virtual ~RemoteMailboxSink() = default;
    // Room for this many entries; the decoder knows the count up front.
    virtual void reserve(size_t entries) = 0;
    virtual void add(const RemoteMailboxView& mailbox) = 0;
    // add() of a mailbox its producer does not read again (a decoder refills
    // it for the next one): a sink that keeps RemoteMailbox objects moves
    // from it instead of copying its strings.
    virtual void take(RemoteMailbox* mailbox) { add(viewOf(*mailbox)); }
};

}  // namespace dref
