#pragma once
// mailbox_cache_dir: one file per user holding the last directory answer for
// the user's remote mailboxes (remote_mailbox_cache_file.h), shared by every
// imap process of the machine that runs as the same uid.
//
// Plain POSIX file I/O, no Dovecot include.  Both calls are synchronous: they
// touch one small local file, as Dovecot itself reads index files on its
// ioloop; the caller decides where that is acceptable.
//
// Trust: a file is used only when it is a regular file owned by the
// process's effective uid, not writable by group or others, with one link,
// not reached through a symlink, and its contents decode for this user and
// these settings.  Anything else is a miss (see ReadStatus).
#include <cstdint>
#include <string>

#include "remote_mailbox_cache_file.h"

namespace dref {

enum class MailboxCacheReadStatus {
    Hit,       // fresh and valid: use record
    Missing,   // no file, or a valid file for another user/other settings
    Stale,     // valid, but older than its TTL
    Rejected,  // unusable (ownership, mode, damage): `error` says why; warn
};

struct MailboxCacheReadResult {
    MailboxCacheReadStatus status = MailboxCacheReadStatus::Missing;
    MailboxCacheRecord record;  // Hit (and Stale)
    int64_t ageMs = 0;          // Hit / Stale: now - the file's mtime (>= 0)
    std::string path;
    std::string error;          // Rejected: one log-safe line
};

// Reads <dir>/<mailboxCacheFileName(user)>.  A found answer is fresh while
// younger than ttlFoundMs, a not-found answer while younger than
// ttlNotFoundMs (cache_ttl / negative_cache_ttl, as the directory's own
// cache keeps them); a TTL <= 0 means never fresh.  An mtime more than 2 s
// in the future (clock step, planted file) is Stale.
MailboxCacheReadResult readMailboxCache(const std::string& dir, const std::string& user,
                                        const std::string& identity, int ttlFoundMs,
                                        int ttlNotFoundMs, const MailboxCacheLimits& limits);

// Encodes the record and replaces the user's file atomically: a temporary
// file (mode 0600, O_EXCL) in the same directory, then rename().  No fsync:
// a file lost or damaged by a crash is a miss.  false and *error (with the
// path and errno text) when the directory is missing or not writable, the
// record cannot be encoded, or the disk is full; the temporary file is
// removed on every failure.
bool writeMailboxCache(const std::string& dir, const MailboxCacheRecord& record,
                       const MailboxCacheLimits& limits, std::string* error);

}  // namespace dref
