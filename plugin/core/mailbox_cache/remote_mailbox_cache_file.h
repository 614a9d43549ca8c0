#pragma once
// The on-disk form of one user's remote mailbox lookup (mailbox_cache_dir):
// what the directory answered, so that the next imap process of the same
// user can build its table without asking LDAP (issue 6, session start).
//
// The file is untrusted input: anyone who can write in the cache directory
// as the mail uid, a full disk or a crash mid-write can leave anything there.
// decodeMailboxCache() accepts only what encodeMailboxCache() writes, checks
// every count, length and value again (names as the directory mapping does,
// URLs re-parsed with parseImapUrl), and answers a one-line, log-safe reason
// for anything else; it never trusts a length it has not checked against the
// bytes it holds.
//
// Format (version 1): printable US-ASCII lines ended by LF; every free-form
// value is percent-encoded so it holds no space, control or 8-bit octet:
//   dovecot-referral-mailbox-cache 1
//   user <pct user>
//   identity <16 hex: mailboxCacheIdentity of the settings>
//   answer found|not-found
//   entries <n>
//   mailbox personal|shared <pct name> <pct dn> <url count k>    (n times,
//   url <imap URL>                                                each followed
//                                                                  by k url lines)
//   end <16 hex: FNV-1a 64 of every byte before "end">
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remote_mailbox.h"
#include "settings.h"

namespace dref {

constexpr int kMailboxCacheFormatVersion = 1;
constexpr size_t kMailboxCacheMaxUrlsPerMailbox = 64;
constexpr size_t kMailboxCacheMaxUserBytes = 1024;
constexpr size_t kMailboxCacheMaxDnBytes = 4096;

enum class CachedAnswer {
    Found,     // the user's entry was found (the list may be empty)
    NotFound,  // no entry for the user: kept for negative_cache_ttl, as the directory does
};

struct MailboxCacheRecord {
    std::string user;      // login name the lookup was made for
    std::string identity;  // mailboxCacheIdentity() of the settings that made it
    CachedAnswer answer = CachedAnswer::Found;
    std::vector<RemoteMailbox> mailboxes;  // directory order; empty for NotFound
};

struct MailboxCacheLimits {
    size_t maxBytes = 32u << 20;  // whole file
    size_t maxEntries = 100000;   // mailbox_max_entries
};

// The settings that decide what a lookup returns (LDAP servers, bases,
// filters, attributes, mailbox_max_entries), hashed: a file written under
// other settings is a miss.  16 lower-case hex digits.
std::string mailboxCacheIdentity(const DirectorySettings& settings);

// The checksum the end line carries for `body` (every byte before "end"):
// 16 lower-case hex digits.  Tests and the fuzz target use it to seal
// altered files, so that they reach the checks behind it.
std::string mailboxCacheChecksum(std::string_view body);

// The file name for `user` inside the cache directory: "<16 hex>.mailboxes"
// (FNV-1a 64 of the name).  Two users may share it; the user line in the
// file then makes the other user's file a miss, never a wrong table.
std::string mailboxCacheFileName(std::string_view user);

// Serialises the record.  Fails (nullopt, *error) when a value cannot be
// represented or would not pass decodeMailboxCache (a URL that does not
// re-parse to the same parts, too many entries, a file over maxBytes); the
// caller then simply does not cache.
std::optional<std::string> encodeMailboxCache(const MailboxCacheRecord& record,
                                              const MailboxCacheLimits& limits,
                                              std::string* error);

// encodeMailboxCache in two steps, for a caller that has the entries one by
// one before it has the whole record (the referral-directory service encodes
// each mailbox on its LDAP thread as the entry arrives, issue 13 item 4):
// appendMailboxCacheEntry appends one mailbox's lines exactly as
// encodeMailboxCache writes them, or appends nothing and fails with the
// reason encodeMailboxCache would give; assembleMailboxCache puts the header
// for `count` entries before such lines and seals them, with
// encodeMailboxCache's checks.  Same bytes as encodeMailboxCache of the
// same record.
bool appendMailboxCacheEntry(const RemoteMailbox& mailbox, std::string* out, std::string* error);
// The same for a caller that made each location from a URL text with
// parseLocation's checks (parseImapUrl, then the mailbox part: at most 1024
// octets, UTF-8, no control character), e.g. the directory mapping:
// sourceUrls[i] is the text of mailbox.locations[i].  A location whose line
// would be that text again gives that location back when decoded (it was
// parsed from it), so it is not parsed a second time; any other location is
// (issue 13 item 4: one URL parse per remote mailbox less on the service's
// LDAP thread).  Same bytes and same refusals as without sourceUrls.
bool appendMailboxCacheEntry(const RemoteMailbox& mailbox,
                             const std::vector<std::string_view>& sourceUrls, std::string* out,
                             std::string* error);
std::optional<std::string> assembleMailboxCache(std::string_view user, std::string_view identity,
                                                CachedAnswer answer, size_t count,
                                                std::string_view entryLines,
                                                const MailboxCacheLimits& limits,
                                                std::string* error);

// Parses and validates a file's bytes.  nullopt and a log-safe *error for
// anything encodeMailboxCache would not have written for this user and
// identity.  *mismatch (when given) tells a well-formed file written for
// another user (a file name shared by two users) or under other settings,
// which is an ordinary miss, from a damaged or planted one.
std::optional<MailboxCacheRecord> decodeMailboxCache(std::string_view bytes,
                                                     std::string_view expectedUser,
                                                     std::string_view expectedIdentity,
                                                     const MailboxCacheLimits& limits,
                                                     std::string* error,
                                                     bool* mismatch = nullptr);

// decodeMailboxCache for a caller that keeps no list (the imap process
// decodes the referral-directory service's answer straight into its table,
// RemoteMailboxTable::Builder; issue 13 item 4): once the entry count is
// read, sink->reserve(count); then every mailbox, with every check of
// decodeMailboxCache passed, goes to sink->add as it is decoded, in file
// order (the view is valid during the call only); the record returned has
// no mailboxes.  The same bytes are refused with the same *error as by
// decodeMailboxCache, but a refusal may come after the sink has taken some
// mailboxes: the caller then drops what it made of them.  An exception of
// the sink (out of memory, a table over 4 GiB) refuses the answer with its
// reason.
std::optional<MailboxCacheRecord> decodeMailboxCacheInto(std::string_view bytes,
                                                         std::string_view expectedUser,
                                                         std::string_view expectedIdentity,
                                                         const MailboxCacheLimits& limits,
                                                         RemoteMailboxSink* sink,
                                                         std::string* error,
                                                         bool* mismatch = nullptr);

}  // namespace dref
