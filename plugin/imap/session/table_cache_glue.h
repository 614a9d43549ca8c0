#pragma once
// The imap side of mailbox_cache_dir (remote_mailbox_cache_store.h): a new
// session of a user takes its remote mailbox table from the file the last
// directory answer left there, and every fresh directory answer replaces
// that file.  session_table_lookup.cpp calls these two functions; nothing else here
// knows about sessions.
#include <cstdint>

#include "directory.h"
#include "settings.h"

struct event;

namespace dref {

// True when mailbox_cache_dir holds a fresh, valid answer for `user`:
// *result is then what the directory answered (status Found or NotFound,
// fromCache = true) and *ageMs how old that answer is.  False otherwise (no
// cache dir, no file, stale, or refused: one warning names the file and the
// reason, and the session asks the directory as without the cache).
bool readTableCache(const Settings& settings, struct event* event, const char* user,
                    MailboxLookupResult* result, int64_t* ageMs);

// Keeps a directory answer for the next sessions of `user`.  Only answers
// that come from LDAP now: Unavailable is not an answer, and a result from
// the process's own directory cache (fromCache) was stored when it was
// fresh; writing it again would make an old answer look new.
void storeTableCache(const Settings& settings, struct event* event, const char* user,
                     const MailboxLookupResult& result);

}  // namespace dref
