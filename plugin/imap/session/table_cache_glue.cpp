// mailbox_cache_dir for the imap plugin: read at session start, written
// after each directory answer (table_cache_glue.h).
//
// Both run synchronously on the ioloop: reading or replacing one small local
// file costs tens of microseconds (about 1 ms for 1000 entries), in the same
// class as the index files Dovecot itself reads synchronously while it
// opens a mailbox.  A slow or hung network file system as mailbox_cache_dir
// would stall the process; the documentation asks for a local directory.
#include "table_cache_glue.h"

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include "dovecot_compat.h"
#include "remote_mailbox_cache_store.h"

namespace dref {
namespace {

// Write failures (directory missing, EACCES, disk full) repeat for every
// answer of the process; the first one is worth a warning, the rest not.
bool g_writeWarned = false;

MailboxCacheLimits limitsFor(const Settings& settings) {
    MailboxCacheLimits limits;
    limits.maxEntries = settings.directory.mailboxMaxEntries;
    return limits;
}

}  // namespace

bool readTableCache(const Settings& settings, struct event* event, const char* user,
                    MailboxLookupResult* result, int64_t* ageMs) {
    if (settings.mailbox.cacheDir.empty() || user == nullptr) return false;
    try {
        const auto start = std::chrono::steady_clock::now();
        const DirectorySettings& d = settings.directory;
        MailboxCacheReadResult r = readMailboxCache(settings.mailbox.cacheDir, user,
                                                    mailboxCacheIdentity(d), d.cacheTtlMs,
                                                    d.negativeCacheTtlMs, limitsFor(settings));
        switch (r.status) {
        case MailboxCacheReadStatus::Hit: break;
        case MailboxCacheReadStatus::Rejected:
            e_warning(event, "remote mailboxes: cache file %s; asking the directory",
                      r.error.c_str());
            return false;
        case MailboxCacheReadStatus::Missing:
        case MailboxCacheReadStatus::Stale:
            return false;
        }
        result->status = r.record.answer == CachedAnswer::Found ? DirectoryStatus::Found
                                                                 : DirectoryStatus::NotFound;
        result->mailboxes = std::move(r.record.mailboxes);
        result->fromCache = true;
        result->elapsedUs = 0;
        *ageMs = r.ageMs;
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        e_debug(event,
                "remote mailboxes: %zu entries from cache file %s (answer %lld ms old, "
                "read and checked in %lld us)",
                result->mailboxes.size(), r.path.c_str(), static_cast<long long>(r.ageMs),
                static_cast<long long>(us));
        return true;
    } catch (const std::exception& e) {
        e_warning(event, "remote mailboxes: cache file not read: %s", e.what());
    } catch (...) {
        e_warning(event, "remote mailboxes: cache file not read");
    }
    return false;
}

void storeTableCache(const Settings& settings, struct event* event, const char* user,
                     const MailboxLookupResult& result) {
    if (settings.mailbox.cacheDir.empty() || user == nullptr || result.fromCache) return;
    if (result.status == DirectoryStatus::Unavailable) return;
    const bool found = result.status == DirectoryStatus::Found;
    if ((found ? settings.directory.cacheTtlMs : settings.directory.negativeCacheTtlMs) <= 0)
        return;  // never fresh: not worth a write
    try {
        MailboxCacheRecord record;
        record.user = user;
        record.identity = mailboxCacheIdentity(settings.directory);
        record.answer = found ? CachedAnswer::Found : CachedAnswer::NotFound;
        if (found) record.mailboxes = result.mailboxes;
        std::string error;
        if (writeMailboxCache(settings.mailbox.cacheDir, record, limitsFor(settings), &error))
            return;
        if (!g_writeWarned) {
            g_writeWarned = true;
            e_warning(event,
                      "remote mailboxes: cannot keep the answer in mailbox_cache_dir: %s "
                      "(further write errors of this process are not logged)",
                      error.c_str());
        } else {
            e_debug(event, "remote mailboxes: cache file not written: %s", error.c_str());
        }
    } catch (const std::exception& e) {
        e_warning(event, "remote mailboxes: cache file not written: %s", e.what());
    } catch (...) {
        e_warning(event, "remote mailboxes: cache file not written");
    }
}

}  // namespace dref
