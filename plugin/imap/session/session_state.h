#pragma once
// The per-client state of the imap plugin's session glue, shared by
// session_glue.cpp (client and command hooks, the registry of sessions) and
// session_table_lookup.cpp (loading and refreshing the remote mailbox
// table).  Dovecot glue: include after imap_glue.h.
#include <cstdint>
#include <memory>
#include <string>

#include "imap_glue.h"
#include "referral_process.h"

namespace dref {

struct SessionGlue {
    struct client* client = nullptr;
    struct mail_user* user = nullptr;
    ReferralProcess* process = nullptr;
    std::unique_ptr<MailboxReferralSession> session;
    struct imap_client_vfuncs super;
    struct event* event = nullptr;
    uint64_t lookupId = 0;
    bool lookupPending = false;
    // The lookup was sent from the client-created hook (askEarly) / v.init
    // has run (the user's namespaces exist) / an answer that came before it.
    bool askedEarly = false;
    bool initDone = false;
    std::unique_ptr<MailboxLookupResult> earlyAnswer;
    int64_t lookupStartUs = 0;
    struct timeout* guard = nullptr;
    // The command being executed (cmd->name, which lives in the command's
    // pool until after the post-command hook) and its kind, set by the
    // command hooks: the storage overrides ask on every mailbox access.
    const char* currentCommand = nullptr;
    MailboxCommand currentKind = MailboxCommand::Other;
    const void* currentToken = nullptr;
    // The last referral logged: command execution and vname.
    const void* lastLoggedToken = nullptr;
    std::string lastLoggedVname;
    struct client_command_context* parked = nullptr;
    command_func_t* parkedFunc = nullptr;
    // The listing command (RLIST, LIST (REMOTE), a relaying session's LIST
    // or LSUB) whose output shows remote names: its local parents of remote
    // names get \HasChildren.  Kept across the command's resumptions (the
    // token is the command context), replaced by the next listing command.
    const void* remoteListingToken = nullptr;
    // Counts the executions of commands (the pre-command hook): the relay's
    // reply filter bounds an owner's untagged replies per command.
    uint64_t commandSerial = 0;
};

// Monotonic clock for the session's table timing.
int64_t nowUs();
int64_t nowMs();

// session_table_lookup.cpp.  The table of `g`'s session: from the mailbox
// cache file when it holds a fresh answer, else asked of the directory.
void startTable(SessionGlue* g);
// Asks the directory (no-op while a lookup is pending); also the refresh
// per cache_ttl.
void startLookup(SessionGlue* g);
// Without a mailbox cache dir: the lookup sent from the client-created
// hook, so that the directory works while Dovecot finishes the login.
void askEarly(SessionGlue* g);
// Takes a lookup's answer (or a cached one) into the session's table and
// resumes a parked command.
void onMailboxes(SessionGlue* g, MailboxLookupResult&& result);
// Drops the pending heap trim (plugin deinit).
void cancelHeapTrim();

}  // namespace dref
