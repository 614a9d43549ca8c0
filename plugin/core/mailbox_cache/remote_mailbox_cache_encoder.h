#pragma once
// The writing side of the mailbox cache file (remote_mailbox_cache_file.h:
// the format): a record to the file's bytes, whole or entry by entry, with
// every check the decoder will make, so that what is written is read back.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remote_mailbox_cache_file.h"

namespace dref {

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
// parseMailboxCacheLocation's checks (parseImapUrl, then the mailbox part: at
// most 1024 octets, UTF-8, no control character), e.g. the directory mapping:
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

}  // namespace dref
