#pragma once
// The reading side of the mailbox cache file (remote_mailbox_cache_file.h:
// the format): a file's bytes, or the referral-directory service's answer in
// the same form, untrusted, into a sink (the imap process's table builder)
// or into a list.
#include <optional>
#include <string>
#include <string_view>

#include "remote_mailbox.h"
#include "remote_mailbox_cache_file.h"

namespace dref {

// Parses and validates the bytes: nullopt and a log-safe *error for anything
// encodeMailboxCache would not have written for this user and identity.
// *mismatch (when given) tells a well-formed file written for another user
// (a file name shared by two users) or under other settings, which is an
// ordinary miss, from a damaged or planted one.
//
// The mailboxes go to the sink (the imap process decodes the service's
// answer straight into its table, RemoteMailboxTable::Builder; issue 13
// item 4): before the first one, sink->reserve(entry count); then every
// mailbox, with every check passed, goes to sink->take as it is decoded, in
// file order (valid during the call only; by default sink->add of its view);
// the record returned has no mailboxes.  A refusal may come after the sink
// has taken some mailboxes: the caller then drops what it made of them.  An
// exception of the sink refuses the answer: "out of memory" for
// std::bad_alloc, "mailboxes not taken: " and its what() for another (a
// table over 4 GiB).
std::optional<MailboxCacheRecord> decodeMailboxCacheInto(std::string_view bytes,
                                                         std::string_view expectedUser,
                                                         std::string_view expectedIdentity,
                                                         const MailboxCacheLimits& limits,
                                                         RemoteMailboxSink* sink,
                                                         std::string* error,
                                                         bool* mismatch = nullptr);

// The same with the mailboxes in the record, in file order: the same bytes
// refused with the same *error and *mismatch.
std::optional<MailboxCacheRecord> decodeMailboxCache(std::string_view bytes,
                                                     std::string_view expectedUser,
                                                     std::string_view expectedIdentity,
                                                     const MailboxCacheLimits& limits,
                                                     std::string* error,
                                                     bool* mismatch = nullptr);

}  // namespace dref
