// Session glue: one MailboxReferralSession per imap client.  The client
// hooks (created: the session, MAILBOX-REFERRALS in the capability
// (R2193-1) and the early lookup; v.init: the table; destroy), the command
// hooks that park mailbox commands until the table is there, the registry
// the other glue files ask (imap_glue.h) and the referral log line.  The
// table itself (lookup, timeout guard, cache file, refresh per cache_ttl)
// is session_table_lookup.cpp's.
//
// Parking (DOVECOT-NOTES §2.8, adapted): a command that arrives while the
// table loads gets its func swapped for parkedCommand() by the pre-command
// hook, before it has read its arguments.  parkedCommand() returns FALSE
// and leaves the command in CLIENT_COMMAND_STATE_WAIT_INPUT: Dovecot then
// treats it like a command waiting for more of its line, keeps the input
// lock on it (so pipelined commands keep their order) and does not spin.
// When the table arrives (or the lookup fails or times out), the client's
// input is marked pending; Dovecot re-runs the command, which restores the
// real func and runs it.  Nothing has been read yet, so a synchronising
// APPEND literal still gets its "+" or its NO [REFERRAL] from cmd_append
// itself (D-15).  WAIT_EXTERNAL is not usable here: the command still owns
// unread input, and Dovecot would loop on it.
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>

#include "imap_glue.h"
#include "referral_process.h"
#include "response_text.h"
#include "session_state.h"

namespace dref {

namespace {

imap_client_created_func_t* g_nextHook = nullptr;
std::unordered_map<struct client*, SessionGlue*> g_byClient;
std::unordered_map<struct mail_user*, SessionGlue*> g_byUser;
int g_bypassDepth = 0;

SessionGlue* glueForClient(struct client* client) {
    auto it = g_byClient.find(client);
    return it == g_byClient.end() ? nullptr : it->second;
}

// Commands that never name a mailbox and need no table: they run at once
// even while the table loads.
bool runsWithoutTable(const char* name) {
    static const char* const kFree[] = {
        "CAPABILITY", "NOOP", "LOGOUT", "ID", "ENABLE", "NAMESPACE", "IDLE", "CHECK", "CLOSE",
        "UNSELECT", "EXPUNGE", "FETCH", "STORE", "SEARCH", "SORT", "THREAD", "UID FETCH",
        "UID STORE", "UID SEARCH", "UID SORT", "UID THREAD", "UID EXPUNGE", "X-CANCEL",
        "CANCELUPDATE", "COMPRESS", "X-STATE"};
    if (name == nullptr) return false;
    for (const char* free : kFree)
        if (strcasecmp(name, free) == 0) return true;
    return false;
}

bool parkedCommand(struct client_command_context* cmd) {
    SessionGlue* g = glueForClient(cmd->client);
    if (g == nullptr || g->parked != cmd) {
        // Cannot happen (the glue outlives its client's commands); finishing
        // the command is the only safe answer.
        client_send_tagline(cmd, "NO [SERVERBUG] Internal error.");
        return TRUE;
    }
    if (cmd->cancel) return TRUE;  // the client is going away
    if (g->session->state() == TableState::Loading) return FALSE;  // still WAIT_INPUT
    command_func_t* func = g->parkedFunc;
    g->parked = nullptr;
    g->parkedFunc = nullptr;
    cmd->func = func;
    return func(cmd);
}

void commandPre(struct client_command_context* cmd) {
    SessionGlue* g = glueForClient(cmd->client);
    if (g == nullptr) return;
    ++g->commandSerial;
    guarded("command hook", [g, cmd] {
        g->currentCommand = cmd->name;
        g->currentKind = classifyCommand(cmd->name != nullptr ? cmd->name : "");
        g->currentToken = cmd;
        if (g->session->refreshDue(nowMs())) startLookup(g);
        if (g->session->state() != TableState::Loading || cmd->func == parkedCommand) return;
        // Only a command that has not started: it still holds the input
        // lock and has read none of its arguments.
        if (cmd->args != nullptr || cmd->client->input_lock != cmd ||
            cmd->state != CLIENT_COMMAND_STATE_WAIT_INPUT || g->parked != nullptr ||
            runsWithoutTable(cmd->name))
            return;
        g->parked = cmd;
        g->parkedFunc = cmd->func;
        cmd->func = parkedCommand;
    });
}

void commandPost(struct client_command_context* cmd) {
    SessionGlue* g = glueForClient(cmd->client);
    if (g == nullptr) return;
    g->currentCommand = nullptr;
    g->currentKind = MailboxCommand::Other;
    g->currentToken = nullptr;
    g->lastLoggedToken = nullptr;
    g->lastLoggedVname.clear();
}

void clientDestroy(struct client* client, const char* reason) {
    SessionGlue* g = glueForClient(client);
    if (g == nullptr) return;  // not ours: cannot chain, never happens
    struct imap_client_vfuncs super = g->super;
    g_byClient.erase(client);
    g_byUser.erase(g->user);
    guarded("session end", [g] {
        if (g->lookupPending) g->process->cancel(g->lookupId);
    });
    if (g->guard != nullptr) timeout_remove(&g->guard);
    event_unref(&g->event);
    delete g;
    super.destroy(client, reason);
}

// v.init runs in client_create_finish(), right after the user's namespaces
// were created and before any command; the created hook runs before that,
// when the INBOX namespace (whose separator the table needs) does not exist.
void clientInit(struct client* client) {
    SessionGlue* g = glueForClient(client);
    if (g == nullptr) return;  // cannot happen: v.init is set with the glue
    g->super.init(client);
    g = glueForClient(client);
    if (g == nullptr) return;
    g->initDone = true;
    guarded("session start", [g] {
        if (g->earlyAnswer) {
            std::unique_ptr<MailboxLookupResult> answer = std::move(g->earlyAnswer);
            onMailboxes(g, std::move(*answer));
        } else if (!g->askedEarly) {
            startTable(g);
        }
    });
    if (g->session->state() == TableState::Loading && !g->lookupPending)
        g->session->tableUnavailable(nowMs());  // never leave commands parked for nothing
}

void clientCreated(struct client** clientp) {
    struct client* client = *clientp;
    try {
        // No capability string: Dovecot (2.4) could not read the imap
        // settings and fails this session in client_create_finish(); there
        // is nothing to refer for.
        if (client->capability_string != nullptr &&
            mail_user_is_plugin_loaded(client->user, imapReferralModule())) {
            ReferralProcess* process = ReferralProcess::forUser(client->user);
            if (process != nullptr && process->settings()->mailbox.enabled) {
                auto* g = new SessionGlue();
                g->client = client;
                g->user = client->user;
                g->process = process;
                g->session = std::make_unique<MailboxReferralSession>(process->settings(),
                                                           client->user->username);
                g->event = event_create(client->user->event);
                event_add_category(g->event, &event_category_referral);
                // struct client has no vlast: chain through a copy of v.
                g->super = client->v;
                client->v.destroy = clientDestroy;
                g_byClient[client] = g;
                g_byUser[client->user] = g;
                client_add_capability(client, "MAILBOX-REFERRALS");
                g->session->startLoading(nowMs());
                client->v.init = clientInit;  // the table is started there
                askEarly(g);
            }
        }
    } catch (const std::exception& e) {
        i_error("dovecot-referral: session setup failed: %s", e.what());
    } catch (...) {
        i_error("dovecot-referral: session setup failed");
    }
    if (g_nextHook != nullptr) g_nextHook(clientp);
}

}  // namespace

struct event_category event_category_referral = {nullptr, "referral", nullptr};

MailboxReferralSession* sessionForClient(struct client* client) {
    SessionGlue* g = glueForClient(client);
    return g == nullptr ? nullptr : g->session.get();
}

MailboxReferralSession* sessionForUser(struct mail_user* user) {
    auto it = g_byUser.find(user);
    return it == g_byUser.end() ? nullptr : it->second->session.get();
}

const char* currentCommandName(struct mail_user* user) {
    auto it = g_byUser.find(user);
    if (it == g_byUser.end() || it->second->currentCommand == nullptr) return "";
    return it->second->currentCommand;
}

MailboxCommand currentCommandKind(struct mail_user* user) {
    auto it = g_byUser.find(user);
    return it == g_byUser.end() ? MailboxCommand::Other : it->second->currentKind;
}

uint64_t commandSerialOf(struct mail_user* user) noexcept {
    try {
        auto it = g_byUser.find(user);
        return it == g_byUser.end() ? 0 : it->second->commandSerial;
    } catch (...) {
        return 0;
    }
}

const void* currentCommandToken(struct mail_user* user) {
    auto it = g_byUser.find(user);
    return it == g_byUser.end() ? nullptr : it->second->currentToken;
}

void markRemoteListing(struct client_command_context* cmd, bool showsRemote) {
    auto it = g_byClient.find(cmd->client);
    if (it != g_byClient.end()) it->second->remoteListingToken = showsRemote ? cmd : nullptr;
}

bool remoteListingNow(struct mail_user* user) {
    auto it = g_byUser.find(user);
    return it != g_byUser.end() && it->second->currentToken != nullptr &&
           it->second->currentToken == it->second->remoteListingToken;
}

OverrideBypass::OverrideBypass() { ++g_bypassDepth; }
OverrideBypass::~OverrideBypass() { --g_bypassDepth; }
bool OverrideBypass::active() { return g_bypassDepth > 0; }

void logReferral(struct mail_user* user, const char* command, const char* vname,
                 const MailboxVerdict& verdict) {
    guarded("referral log", [&] {
        auto it = g_byUser.find(user);
        struct event* parent = it != g_byUser.end() ? it->second->event : user->event;
        if (it != g_byUser.end()) {
            // exists() and open() may both see the name within one command.
            SessionGlue* g = it->second;
            if (g->currentToken != nullptr && g->currentToken == g->lastLoggedToken &&
                g->lastLoggedVname == vname)
                return;
            g->lastLoggedToken = g->currentToken;
            g->lastLoggedVname = vname;
        }
        struct event_passthrough* e = event_create_passthrough(parent)
                                          ->set_name("dref_mailbox_referral")
                                          ->add_str("command", command)
                                          ->add_str("mailbox", vname)
                                          ->add_int("url_count", verdict.urlCount);
        e_info(e->event(), "mailbox referral: user=%s command=%s mailbox=%s target=%s urls=%zu",
               quoteForLog(user->username).c_str(), command, quoteForLog(vname, 200).c_str(),
               verdict.target.c_str(), verdict.urlCount);
        for (const std::string& note : verdict.notes)
            e_warning(parent, "mailbox referral: %s", note.c_str());
    });
}

void sessionGlueInit(struct module*) {
    g_nextHook = imap_client_created_hook_set(clientCreated);
    command_hook_register(commandPre, commandPost);
}

void sessionGlueDeinit() {
    cancelHeapTrim();
    command_hook_unregister(commandPre, commandPost);
    imap_client_created_hook_set(g_nextHook);
    ReferralProcess::shutdown();
}

}  // namespace dref
