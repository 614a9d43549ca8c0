#pragma once
// What a listing command shows of the remote mailboxes (issue 12 item 4):
// the directory's entries, the inferiors their owners list, the hierarchy
// levels leading to them, and their attributes, merged into the user's
// view.  Used for RLIST, RLSUB and LIST (REMOTE) (RFC 2193 §5, RFC 5258 §3),
// and for LIST / LSUB / LIST-EXTENDED in a relaying session, where remote
// mailboxes are listed like local ones (docs/mailbox-relay.md §2.1).
// The glue prints the lines this computes before Dovecot's own listing of
// the local mailboxes; the list override hides remote names from that
// part, so no name is printed twice.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "list_pattern.h"
#include "owner_listing.h"
#include "remote_mailbox_table.h"

namespace dref {

// RFC 5258 options of one LIST command, as Dovecot's LIST accepts them.
struct ListOptions {
    bool extended = false;          // selection options, a pattern list or RETURN were used
    bool selectSubscribed = false;  // (SUBSCRIBED): implies RETURN (SUBSCRIBED)
    bool selectRemote = false;      // (REMOTE)
    bool recursiveMatch = false;    // (... RECURSIVEMATCH)
    bool selectSpecialUse = false;  // (SPECIAL-USE): no remote mailbox has a special use
    bool returnChildren = false;    // RETURN (CHILDREN)
    bool returnSubscribed = false;  // RETURN (SUBSCRIBED)
};

// Selection and return option atoms (case-insensitive) -> options.  False
// where Dovecot's LIST answers BAD (an unknown option, RECURSIVEMATCH as
// the only selection option; RFC 5258 §3): then nothing remote is printed
// and Dovecot sends its BAD.  RETURN (STATUS ...) and RETURN (SPECIAL-USE)
// are accepted: they add nothing to remote lines.
bool parseListOptions(const std::vector<std::string>& selection,
                      const std::vector<std::string>& returns, ListOptions* options);

struct RemoteListRequest {
    std::vector<ListPattern> patterns;
    bool lsub = false;            // LSUB / RLSUB reply semantics (subscriptions, \Noselect parents)
    bool subscribedOnly = false;  // list subscribed names only
    bool recursiveMatch = false;  // RFC 5258 CHILDINFO for parents of subscribed names
    bool childrenAttributes = false;   // print \HasChildren / \HasNoChildren when known
    bool subscribedAttribute = false;  // print \Subscribed
    bool remoteAttribute = false;      // print \Remote (LIST (REMOTE))
    bool askOwners = false;            // owners' inferiors are wanted (relay credentials set)
    bool selectsNothing = false;       // (SPECIAL-USE): no remote line at all
};

// The request for one listing command, from its options.
//   Rlist:    RLIST ref pattern (remote lines with no attribute but children)
//   Rlsub:    RLSUB ref pattern
//   ListRemote: LIST (REMOTE ...) ...
//   Relayed:  LIST or LIST-EXTENDED in a relaying session
//   RelayedLsub: LSUB in a relaying session
enum class ListFlavour { Rlist, Rlsub, ListRemote, Relayed, RelayedLsub };
RemoteListRequest makeListRequest(ListFlavour flavour, const ListOptions& options,
                                  bool ownersConfigured);

struct RemoteListLine {
    std::string vname;
    std::string attributes;       // "\\Noselect \\HasChildren", without parentheses
    bool childSubscribed = false;  // append (CHILDINFO ("SUBSCRIBED")) (RFC 5258 §4)
};

// What the glue knows when it builds the lines.
struct RemoteListInput {
    const RemoteMailboxTable* table = nullptr;
    // Owner answers by entry vname; an entry missing here has unknown
    // inferiors (not asked, down, or no credentials).
    std::map<std::string, const std::vector<OwnerMailbox>*, std::less<>> owners;
    // Remote names (entries or below) the user subscribed to on this server.
    std::set<std::string, std::less<>> subscribed;
    // True when `vname` is a local mailbox (Dovecot prints that line itself).
    std::function<bool(const std::string&)> existsLocally;
};

// The entries whose owner should be asked for this request: an entry that
// is listed (its children attributes) or below which the patterns may match.
std::vector<RemoteMailboxEntry> entriesToAsk(const RemoteListRequest& request,
                                             const RemoteMailboxTable& table);

// The remote lines, in vname order, each name once.
std::vector<RemoteListLine> buildRemoteListing(const RemoteListRequest& request,
                                               const RemoteListInput& input);

}  // namespace dref
