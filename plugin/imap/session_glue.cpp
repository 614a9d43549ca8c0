// Session glue: one MailboxReferralSession per imap client.  Starts the remote mailbox
// lookup when the client is created, parks mailbox commands until the table
// is there (bounded by ldap_timeout), refreshes it per cache_ttl, and adds
// MAILBOX-REFERRALS to the capability (R2193-1).
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
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "imap_glue.h"
#include "referral_process.h"
#include "response_text.h"
#include "table_cache_glue.h"

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

namespace {

imap_client_created_func_t* g_nextHook = nullptr;
std::unordered_map<struct client*, SessionGlue*> g_byClient;
std::unordered_map<struct mail_user*, SessionGlue*> g_byUser;
int g_bypassDepth = 0;
constexpr size_t kMaxWarningLines = 20;
constexpr int kGuardSlackMs = 1000;

int64_t nowUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
int64_t nowMs() { return nowUs() / 1000; }

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

// After a large table load or replacement, hand the freed heap back to the
// system: the directory answer (parsed partly in the LDAP client's worker
// thread, another malloc arena) and any previous table are gone by then.
// Run from a zero timeout, after the directory's callback frames (which
// still hold the raw search result) have returned.
constexpr size_t kTrimAfterEntries = 1000;
struct timeout* g_trimTimeout = nullptr;

void trimHeap(void*) {
    timeout_remove(&g_trimTimeout);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

void scheduleHeapTrim() {
    if (g_trimTimeout == nullptr) g_trimTimeout = timeout_add_short(0, trimHeap, nullptr);
}

void resumeParked(SessionGlue* g) {
    if (g->parked == nullptr) return;
    // The parked command re-runs from Dovecot's input handler, where a
    // command normally continues (never from inside this callback).
    client_add_missing_io(g->client);
    i_stream_set_input_pending(g->client->input, TRUE);
}

// An answer that comes from a cache (the mailbox cache file) was warned
// about when the directory gave it; repeating that at every session start
// would bury the log (one line per bad entry per session), so repeats are
// debug.
void logWarnings(SessionGlue* g, const std::vector<std::string>& warnings, bool repeated) {
    size_t n = 0;
    for (const std::string& w : warnings) {
        if (++n > kMaxWarningLines) break;
        if (repeated)
            e_debug(g->event, "remote mailboxes (cached answer): %s", w.c_str());
        else
            e_warning(g->event, "remote mailboxes: %s", w.c_str());
    }
    if (warnings.size() > kMaxWarningLines && !repeated)
        e_warning(g->event, "remote mailboxes: %zu more warnings not shown",
                  warnings.size() - kMaxWarningLines);
}

void finishLookup(SessionGlue* g) {
    g->lookupPending = false;
    if (g->guard != nullptr) timeout_remove(&g->guard);
}

void onLookupTimeout(void* context) {
    auto* g = static_cast<SessionGlue*>(context);
    guarded("lookup timeout", [g] {
        if (g->lookupPending) g->process->cancel(g->lookupId);
    });
    finishLookup(g);
    bool first = g->session->state() == TableState::Loading;
    g->session->tableUnavailable(nowMs());
    e_warning(g->event,
              "remote mailboxes: directory did not answer within %d ms; %s",
              g->session->settings().directory.timeoutMs + kGuardSlackMs,
              first ? "serving local mailboxes only, remote names are unknown in this session "
                      "until the directory answers"
                    : "keeping the previous table");
    resumeParked(g);
}

void onMailboxes(SessionGlue* g, MailboxLookupResult&& result) {
    if (!g->initDone) {
        // Only a nested ioloop before client_create_finish() could bring it:
        // the table waits for the namespaces (their separator).
        finishLookup(g);
        g->earlyAnswer = std::make_unique<MailboxLookupResult>(std::move(result));
        return;
    }
    storeTableCache(g->session->settings(), g->event, g->user->username, result);
    finishLookup(g);
    const int64_t elapsed = nowUs() - g->lookupStartUs;
    bool first = g->session->state() == TableState::Loading;
    if (result.status == DirectoryStatus::Unavailable) {
        g->session->tableUnavailable(nowMs());
        e_warning(g->event, "remote mailboxes: directory unavailable (%s); %s",
                  quoteForLog(result.error, 200).c_str(),
                  first ? "serving local mailboxes only, remote names are unknown in this session "
                          "until the directory answers"
                        : "keeping the previous table");
    } else {
        std::vector<std::string> warnings = result.warnings;
        struct mail_namespace* inbox = g->user->namespaces == nullptr
                                           ? nullptr
                                           : mail_namespace_find_inbox(g->user->namespaces);
        char sep = inbox != nullptr ? mail_namespace_get_sep(inbox) : '/';
        const size_t skippedByDirectory = result.warnings.size();
        size_t before = warnings.size();
        // The directory answer is freed as soon as the table holds it.
        std::vector<RemoteMailbox> mailboxes = std::move(result.mailboxes);
        const size_t freed = mailboxes.size() + g->session->table().size();
        RemoteMailboxTable table = RemoteMailboxTable::build(
            mailboxes, sep, g->session->settings().decision.localNames,
            g->session->settings().decision.allowedHosts, &warnings);
        std::vector<RemoteMailbox>().swap(mailboxes);
        size_t entries = table.size();
        size_t tableBytes = table.memoryBytes();
        g->session->tableLoaded(std::move(table), nowMs());
        // A kept copy (the service's cache, the cache file) is refreshed
        // cache_ttl after the directory gave it.
        g->session->tableAged(result.ageMs);
        if (freed >= kTrimAfterEntries) scheduleHeapTrim();
        logWarnings(g, warnings, result.fromCache);
        struct event_passthrough* e =
            event_create_passthrough(g->event)
                ->set_name("dref_remote_mailboxes_loaded")
                ->add_int("duration_usecs", elapsed)
                ->add_int("entries", entries)
                ->add_int("table_bytes", tableBytes)
                ->add_int("skipped", skippedByDirectory + (warnings.size() - before))
                ->add_str("from_cache", result.fromCache ? "yes" : "no");
        e_debug(e->event(),
                "remote mailboxes: %zu entries loaded in %lld us (%zu skipped%s), table %zu bytes",
                entries, static_cast<long long>(elapsed),
                skippedByDirectory + (warnings.size() - before),
                result.fromCache ? ", from cache" : "", tableBytes);
    }
    resumeParked(g);
}

void startLookup(SessionGlue* g) {
    if (g->lookupPending) return;
    g->lookupPending = true;
    g->lookupStartUs = nowUs();
    g->session->startRefresh();
    g->lookupId = g->process->lookupMailboxes(
        g->user->username, g->event, [g](MailboxLookupResult&& r) {
            try {
                onMailboxes(g, std::move(r));
            } catch (const std::exception& e) {
                i_error("dovecot-referral: remote mailbox table: %s", e.what());
                g->session->tableUnavailable(nowMs());
                resumeParked(g);
            }
        });
    if (g->lookupId == 0) {  // nothing could be asked (logged): local mailboxes only
        finishLookup(g);
        g->session->tableUnavailable(nowMs());
        resumeParked(g);
        return;
    }
    // The directory fails a search itself after ldap_timeout; the guard only
    // covers a directory that never calls back.
    int guardMs = g->session->settings().directory.timeoutMs + kGuardSlackMs;
    g->guard = timeout_add(guardMs, onLookupTimeout, g);
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

// The table comes from the mailbox cache file (mailbox_cache_dir) when it
// holds a fresh answer: at once, with no LDAP request and nothing parked.
// Otherwise the directory is asked.
void startTable(SessionGlue* g) {
    MailboxLookupResult cached;
    int64_t cachedAgeMs = 0;
    if (readTableCache(g->session->settings(), g->event, g->user->username, &cached,
                       &cachedAgeMs)) {
        g->lookupStartUs = nowUs();
        cached.ageMs = cachedAgeMs;
        onMailboxes(g, std::move(cached));
        return;
    }
    startLookup(g);
}

// Without a mailbox cache dir the answer comes from the directory (through
// the referral-directory service): the request goes out here, in the
// client-created hook, so the directory works while Dovecot sends the login
// reply and creates the user's namespaces (issue 13 item 4); the table is
// built in v.init, once they exist.  A cache file is read in v.init.
void askEarly(SessionGlue* g) {
    if (!g->session->settings().mailbox.cacheDir.empty()) return;
    g->askedEarly = true;
    guarded("session start", [g] { startLookup(g); });
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
    if (g_trimTimeout != nullptr) timeout_remove(&g_trimTimeout);
    command_hook_unregister(commandPre, commandPost);
    imap_client_created_hook_set(g_nextHook);
    ReferralProcess::shutdown();
}

}  // namespace dref
