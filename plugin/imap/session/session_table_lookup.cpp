// The remote mailbox table of one imap session: asked of the directory
// (through the referral-directory service) or read from the mailbox cache
// file, guarded by a timeout, loaded into the MailboxReferralSession,
// refreshed per cache_ttl; a command parked while it loads (session_glue.cpp)
// is resumed when it arrives, fails or times out.
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <vector>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "imap_glue.h"
#include "response_text.h"
#include "session_state.h"
#include "table_cache_glue.h"

namespace dref {

namespace {

constexpr size_t kMaxWarningLines = 20;
constexpr int kGuardSlackMs = 1000;

// After a large table load or replacement, hand the freed heap back to the
// system: the directory answer (parsed partly in the LDAP client's worker
// thread, another malloc arena) and any previous table are gone by then.
// Run from a timeout, after the directory's callback frames (which still
// hold the raw search result) have returned, and not before the command
// that waited for the table: Dovecot's ioloop runs due timeouts before the
// input that arrived meanwhile, and the trim (madvise of the free pages)
// took 0.5-0.8 ms of CPU after a 1,000-entry answer, measured in a process
// of its own on the loaded lab machine (issue 13 item 4: the first
// SELECT's reply waited for it).  An imap process that ends before then
// gives everything back anyway.
constexpr size_t kTrimAfterEntries = 1000;
constexpr unsigned int kTrimDelayMs = 100;
struct timeout* g_trimTimeout = nullptr;

void trimHeap(void*) {
    timeout_remove(&g_trimTimeout);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

void scheduleHeapTrim() {
    if (g_trimTimeout == nullptr)
        g_trimTimeout = timeout_add_short(kTrimDelayMs, trimHeap, nullptr);
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

// The namespace separator the table's names use: the INBOX namespace's.
char separatorOf(SessionGlue* g) {
    struct mail_namespace* inbox = g->user->namespaces == nullptr
                                       ? nullptr
                                       : mail_namespace_find_inbox(g->user->namespaces);
    return inbox != nullptr ? mail_namespace_get_sep(inbox) : '/';
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

}  // namespace

int64_t nowUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
int64_t nowMs() { return nowUs() / 1000; }

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
        const size_t skippedByDirectory = result.warnings.size();
        size_t before = warnings.size();
        RemoteMailboxTable table;
        size_t freed = g->session->table().size();
        if (result.table) {
            // Decoded straight into the table (startLookup's makeBuilder): its build's
            // warnings come with it.
            table = std::move(*result.table);
            result.table.reset();
            warnings.insert(warnings.end(), result.tableWarnings.begin(),
                            result.tableWarnings.end());
            freed += table.size();
        } else {
            // The directory answer is freed as soon as the table holds it.
            std::vector<RemoteMailbox> mailboxes = std::move(result.mailboxes);
            freed += mailboxes.size();
            table = RemoteMailboxTable::build(mailboxes, separatorOf(g),
                                              g->session->settings().decision.localNames,
                                              g->session->settings().decision.allowedHosts,
                                              &warnings);
        }
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
    // The service's answer is decoded straight into the table when it
    // arrives after v.init (the usual case: the separator is known) and no
    // mailbox_cache_dir wants the decoded list written out.
    auto makeBuilder = [g](std::vector<std::string>* warnings)
        -> std::unique_ptr<RemoteMailboxTable::Builder> {
        if (!g->initDone || !g->session->settings().mailbox.cacheDir.empty()) return nullptr;
        return std::make_unique<RemoteMailboxTable::Builder>(
            separatorOf(g), g->session->settings().decision.localNames,
            g->session->settings().decision.allowedHosts, warnings);
    };
    g->lookupId = g->process->lookupMailboxes(
        g->user->username, g->event,
        [g](MailboxLookupResult&& r) {
            try {
                onMailboxes(g, std::move(r));
            } catch (const std::exception& e) {
                i_error("dovecot-referral: remote mailbox table: %s", e.what());
                g->session->tableUnavailable(nowMs());
                resumeParked(g);
            }
        },
        makeBuilder);
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

void cancelHeapTrim() {
    if (g_trimTimeout != nullptr) timeout_remove(&g_trimTimeout);
}

}  // namespace dref
