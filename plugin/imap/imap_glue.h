#pragma once
// Shared declarations of the imap plugin's glue files (Dovecot side).
#include <exception>
#include <string>
#include <vector>

#include "dovecot_compat.h"
#include "mailbox_referral_session.h"

namespace dref {

// Per-session glue: the Dovecot objects around one MailboxReferralSession.
struct SessionGlue;

// The session of an imap client / of its mail user; nullptr when the plugin
// is not active for it (settings failed, mailbox_referrals = no, not imap).
MailboxReferralSession* sessionForClient(struct client* client);
MailboxReferralSession* sessionForUser(struct mail_user* user);

// The IMAP command being executed for this user ("SELECT", "UID COPY"), or
// "" outside a command, and an identity of that command execution (for
// logging one referral once).  Set by the command hooks.
const char* currentCommandName(struct mail_user* user);
const void* currentCommandToken(struct mail_user* user);
// classifyCommand(currentCommandName(user)), computed once per command.
MailboxCommand currentCommandKind(struct mail_user* user);
// A number that changes with every command execution of the user's client
// (0 without a session): the relay's reply filter counts per command.
uint64_t commandSerialOf(struct mail_user* user) noexcept;

// Set by the listing commands: this command's output shows remote names
// (RLIST, LIST (REMOTE), a relaying session's LIST/LSUB), so the list
// override marks local parents of remote names \HasChildren.
void markRemoteListing(struct client_command_context* cmd, bool showsRemote);
bool remoteListingNow(struct mail_user* user);

// This plugin's module (for mail_user_is_plugin_loaded) and log category.
struct module* imapReferralModule();
extern struct event_category event_category_referral;

// While set, the storage and list overrides pass everything through: used
// by the plugin's own bookkeeping (home subscriptions of remote names,
// listing subscriptions for RLSUB).
class OverrideBypass {
public:
    OverrideBypass();
    ~OverrideBypass();
    static bool active();
};

// R2193-30: one log line and one event per referral given.
void logReferral(struct mail_user* user, const char* command, const char* vname,
                 const MailboxVerdict& verdict);

// Runs f; no exception leaves it (DOVECOT-NOTES §4.1: never across Dovecot
// frames).  An exception is logged with `where`.
template <typename F>
void guarded(const char* where, F&& f) noexcept {
    try {
        f();
    } catch (const std::exception& e) {
        i_error("dovecot-referral: %s: %s", where, e.what());
    } catch (...) {
        i_error("dovecot-referral: %s: unknown exception", where);
    }
}

void sessionGlueInit(struct module* module);
void sessionGlueDeinit();
void storageGlueInit(struct module* module);
void storageGlueDeinit();
void listCommandsInit();
void listCommandsDeinit();
void subscribeCommandsInit();
void subscribeCommandsDeinit();
// mailbox_relay_glue.cpp (docs/mailbox-relay.md)
void mailboxRelayInit(struct module* module);
void mailboxRelayDeinit();
// The relay namespace of the remote entry covering `vname` (UTF-8), added
// now if the session has none for that entry yet (its connection opens at
// its first command); nullptr when the name is not relayed (logged when the
// entry cannot be relayed or Dovecot refuses the namespace).
struct mail_namespace* relayNamespaceFor(struct mail_user* user, MailboxReferralSession* session,
                                         const char* vname);
// owner_listing_glue.cpp: what the owner lists below `entry`, asked through
// its relay namespace (Dovecot's imapc list); false + *error on failure.
bool listOwnerInferiors(struct client* client, MailboxReferralSession* session,
                        const RemoteMailboxEntry& entry, std::vector<OwnerMailbox>* out,
                        std::string* error);
// True for the hidden imapc namespaces the relay adds.
bool isRelayNamespace(const struct mail_namespace* ns);
// How many of them the user has (remote entries relayed in the session).
size_t relayNamespaceCount(struct mail_user* user);
// `ret` of a mailbox vfunc (open, exists, get_status, create, delete,
// sync_deinit); for a relayed mailbox that failed because its server cannot
// be reached, the error becomes MAIL_ERROR_UNAVAILABLE.
int relayResult(struct mailbox* box, int ret);
// is_inconsistent of a relayed mailbox: only its index, not the connection
// to its owner (mailbox_relay_glue.cpp says why).
bool relayIsInconsistent(struct mailbox* box);

}  // namespace dref
