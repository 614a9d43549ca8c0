#pragma once
// Directory lookups on top of ldap::Client: user -> home server record, and
// user -> remote mailboxes, with a TTL cache that also remembers "not found".
//
// Threading and lifetime are those of ldap::Client: callbacks run from
// process() on the caller's thread.  Results are plain data (plugin/core
// types) with every directory value already validated: hostile values are
// dropped with a reason and never reach the caller's wire.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "home_server.h"
#include "ldap_client.h"
#include "remote_mailbox.h"
#include "remote_mailbox_table.h"
#include "settings.h"

namespace dref {

enum class DirectoryStatus { Found, NotFound, Unavailable };

struct UserLookupResult {
    DirectoryStatus status = DirectoryStatus::NotFound;
    UserRecord record;          // meaningful when Found
    std::string error;          // Unavailable: why (one line)
    std::vector<std::string> warnings;  // values dropped as invalid, several entries matched, ...
    bool fromCache = false;
    // The directory could not be asked (no server, timeout, a server
    // error) and this is the last answer it gave for the user, past its
    // cache TTL (fromCache is set too; the last warning says why and how
    // old).  Only lookupUser() gives such an answer.
    bool stale = false;
    int64_t elapsedUs = 0;
};

struct MailboxLookupResult {
    DirectoryStatus status = DirectoryStatus::NotFound;  // Found even when the list is empty
    std::vector<RemoteMailbox> mailboxes;
    std::string error;
    std::vector<std::string> warnings;  // one per skipped entry, with its DN and reason
    bool fromCache = false;
    int64_t elapsedUs = 0;
    // How old the answer is when it is a kept copy (the referral-directory
    // service's cache): the session refreshes it cache_ttl after the
    // directory gave it, not cache_ttl after it arrived.  0: fresh.
    int64_t ageMs = 0;
    // DirectoryOptions::encodeMailboxes and a Found answer: the mailboxes
    // are not in `mailboxes` but already in the mailbox cache file's line
    // form (remote_mailbox_cache_encoder.h, appendMailboxCacheEntry), made on
    // the LDAP worker as the entries arrived: encodedCount mailboxes in
    // encodedLines, for assembleMailboxCache.  encodeError: the first kept
    // mailbox that cannot be encoded (then the answer cannot be passed on,
    // as when encodeMailboxCache fails).
    bool encoded = false;
    std::string encodedLines;
    size_t encodedCount = 0;
    std::string encodeError;
    // A Found answer of the referral-directory service that the imap
    // process decoded straight into the session's table
    // (DirectoryServiceClient::lookup with a TableBuilderFn; issue 13 item
    // 4): the table, `mailboxes` empty, and the warnings of the table's
    // build (RemoteMailboxTable::build's) in tableWarnings.
    std::shared_ptr<RemoteMailboxTable> table;
    std::vector<std::string> tableWarnings;
};

struct DirectoryStats {
    uint64_t cacheHits = 0;
    uint64_t cacheMisses = 0;
    uint64_t negativeHits = 0;
    // lookupUser() answers that were the last known answer past its TTL,
    // because the directory could not be asked (UserLookupResult::stale).
    uint64_t staleHits = 0;
    size_t cacheEntries = 0;
};

struct DirectoryOptions {
    // Keep remote mailbox answers in the TTL cache.  The imap plugin turns
    // this off: each session's table, refreshed per cache_ttl, already is
    // its cache, and a second copy of every entry would double what a large
    // mailbox list costs the process.  User records are cached either way.
    bool cacheMailboxes = true;
    // Request password_attribute with the user search and keep the value in
    // the record (password mode).  Only the auth process's passdb sets it:
    // the imap plugin, the referral-directory service and the lookup tool
    // never read a stored password, whatever the settings file says.
    bool readPasswords = false;
    // Encode remote mailboxes on the LDAP worker as they arrive
    // (MailboxLookupResult::encoded): for the referral-directory service,
    // which passes answers on in that form and needs nothing else of them.
    bool encodeMailboxes = false;
    // ldap::ClientSettings::searchOnCallerThread: the searches are sent and
    // read on the caller's thread (its event loop) while the connection
    // stands, with no hand-off to the LDAP worker per search.  The auth
    // process's passdb sets it (one small search per cold login); the
    // referral-directory service does not (its mailbox answers are mapped on
    // the worker as they arrive).
    bool searchOnCallerThread = false;
};

class Directory {
public:
    // Builds the LDAP client from settings.directory.
    static std::unique_ptr<Directory> create(const Settings& settings, std::string* error,
                                             const DirectoryOptions& options = DirectoryOptions());
    virtual ~Directory() = default;

    virtual int eventFd() const = 0;   // see ldap::Client::eventFd
    virtual void process() = 0;        // see ldap::Client::process

    // Callbacks never run inside these calls (a cache hit is delivered from
    // the next process()), so callers can rely on one code path.
    // When the directory cannot be asked (no server reachable, a timeout, an
    // error result from the server) and it answered for this user before,
    // the answer is that last answer, however old (stale set, a warning
    // added), as Dovecot's auth cache falls back to expired entries when a
    // passdb fails: a user's placement rarely changes during an outage, a
    // temporary failure for everyone known would.  Only answers still in the
    // cache count (cache_size bounds them, cache_ttl = 0 keeps none); a
    // not-found answer is a last answer too, as in Dovecot's auth cache.
    // Never when the directory answered: a user_base that does not exist is
    // an answer (Unavailable, as before), and every answer replaces the last.
    virtual uint64_t lookupUser(const std::string& loginName,
                                std::function<void(UserLookupResult&&)> callback) = 0;
    // The cached answer for `loginName` while it is live (fromCache set,
    // counted as a cache hit), else nullptr: no callback, no search.  For a
    // caller that can answer on the spot (the passdb driver answers a warm
    // login inside Dovecot's call, as passwd-file does) and uses
    // lookupUser() only on nullptr.  The directory's own decoded copy of
    // the cache entry, kept from one call to the next so that a warm login
    // allocates nothing (password included: overwritten at the next call):
    // valid until the next call of this directory.
    virtual const UserLookupResult* cachedUser(const std::string& loginName) = 0;
    // lookupUser() without the cache: always searches, and the answer
    // replaces the cached one (the outage fallback to the last answer
    // applies as in lookupUser()).  Password mode asks again with it when
    // a password check failed against a cached answer: the password may
    // have changed since.
    virtual uint64_t refreshUser(const std::string& loginName,
                                 std::function<void(UserLookupResult&&)> callback) = 0;
    // Shared mailboxes under mailbox_shared_base plus personal ones below the
    // user's entry.  No last-answer fallback: the mailbox searches need the
    // directory too, so a failed user search is Unavailable at once.
    virtual uint64_t lookupRemoteMailboxes(const std::string& loginName,
                                           std::function<void(MailboxLookupResult&&)> callback) = 0;
    virtual void cancel(uint64_t id) = 0;

    virtual DirectoryStats stats() const = 0;
    virtual ldap::ClientStats ldapStats() const = 0;
};

}  // namespace dref
