#pragma once
// Relay of remote mailboxes through the home server (issue 12,
// docs/mailbox-relay.md), the decisions only: whether a session relays,
// and where one name goes.  The glue (plugin/imap/relay/mailbox_relay_glue.cpp)
// turns a RelayTarget into a hidden Dovecot imapc namespace whose prefix is
// the entry's name in the user's view and whose imapc_list_prefix is the
// owner's name for it, so that Dovecot itself maps every name below the
// entry between the two views.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mailbox_referral_session.h"
#include "settings.h"

namespace dref {

// mail_prefetch_count of a relay namespace.  Dovecot's default, 0, makes
// the imap process ask imapc for one message at a time, so a FETCH of n
// messages is n round trips to the owner, each a UID FETCH of its own.
// With prefetching, imapc merges the UIDs of the mails in flight into one
// UID FETCH (imapc-mail-fetch.c: imapc_mail_try_merge_fetch()).  The value
// and what it changes: docs/benchmarks.md, "Mailbox relay cost".
constexpr unsigned int kRelayMailPrefetchCount = 20;

struct RelayTarget {
    std::string entryVname;  // the remote entry in the user's view (vname)
    std::string prefix;      // entryVname + separator: the relay namespace's prefix
    char separator = '/';    // the user's namespace separator
    std::string remoteName;  // the owner's name of the entry (UTF-8, '/'-separated, D-19)
    // The same on the wire (modified UTF-7): Dovecot's imapc uses it
    // unchanged in its commands and compares the owner's answers with it.
    std::string remoteWireName;
    std::string host;        // the owning server (first location, R2193-9)
    uint16_t port = 143;
    std::string user;        // the login name at the owner: URL user, else the session's (D-18)
};

// True when the session relays remote names instead of referring them or
// hiding them: mailbox_relay = yes, the table is loaded, and the session is
// not sent referrals (opt-in mode and the client has not opted in).
bool relaysRemoteMailboxes(const MailboxReferralSession& session);

// Where `vname` is relayed to: the entry it is (or is below) and that
// entry's first location.  nullopt when the name is not remote; also when
// the location cannot be relayed, with *why set (for the log).
std::optional<RelayTarget> relayTargetFor(const MailboxReferralSession& session,
                                          std::string_view vname, std::string* why);

// Why Dovecot's imapc cannot use `wire` (the owner's name of an entry,
// modified UTF-7) as its imapc_list_prefix with the owner's hierarchy
// separator `ownerSep`, nullptr when it can: imapc escapes the owner's
// names before it strips that prefix from them and asserts that it still
// matches (the imap process panicked otherwise: imapc-list.c,
// imapc_list_get_vname(), Dovecot 2.3.19.1 line 405, 2.4.1 line 412).
// relayTargetFor() asks with '/', before the owner's separator is known;
// the relay's reply filter asks again with the separator of the owner's
// first LIST answer.
const char* unmappableOwnerPrefix(std::string_view wire, char ownerSep);

// The verdict for a mailbox of a relay namespace (Dovecot routed the name
// there): served through the relay (Local: Dovecot's imapc storage handles
// it) while the session relays; once the client opted in to referrals, the
// same name is referred as it would be without the relay.  DELETE of the
// entry itself is refused (NO [CANNOT]): the directory names it; so is
// every command on a name with a "." or ".." level below the entry.
MailboxVerdict decideInRelayNamespace(const MailboxReferralSession& session,
                                      std::string_view vname, MailboxCommand command);

// RENAME in a relaying session.  Served by the relay (Local: both names
// resolve to the same relay namespace and Dovecot's imapc storage renames
// on the owner) only when both names are below the same remote entry.  The
// entry itself is the directory's name for the mailbox and is not renamed
// here; a RENAME between a local name and a remote one, or between two
// entries (possibly two owners), is one no single server can do: Refuse,
// which the glue sends as NO [CANNOT] <text>.  Neither name remote: Local.
MailboxVerdict decideRelayRename(const MailboxReferralSession& session, std::string_view oldName,
                                 std::string_view newName);

// SUBSCRIBE / UNSUBSCRIBE of a remote name in a relaying session: true when
// the subscription is recorded in the user's subscriptions on this (the
// home) server and answered OK, nothing sent to the owner.  LSUB on the home
// server, and RLSUB once the client opts in (R2193-14), read it there.
bool relaySubscribesAtHome(const MailboxReferralSession& session, std::string_view vname);

// The verdict for a name Dovecot routed to the user's own namespaces while
// the session relays.  A remote name lands there only when the glue made
// no relay namespace for its entry; when that is because the session
// already relays mailbox_relay_max_mailboxes entries (`relayedEntries`),
// the answer is NO [LIMIT] with a text that says so (never the local
// mailbox, never "does not exist").  Otherwise the session's own verdict.
MailboxVerdict decideOutsideRelayNamespace(const MailboxReferralSession& session,
                                           std::string_view vname, MailboxCommand command,
                                           size_t relayedEntries);

// The text of that NO [LIMIT] (also logged by the glue).
extern const char kRelayLimitError[];

// Cross-key checks of the relay settings (settings.cpp calls it after every
// key was read): false with the key to blame and the reason.
bool checkRelaySettings(const Settings& settings, std::string* key, std::string* why);

}  // namespace dref
