#pragma once
// The on-disk form of one user's remote mailbox lookup (mailbox_cache_dir):
// what the directory answered, so that the next imap process of the same
// user can build its table without asking LDAP (issue 6, session start).
//
// The file is untrusted input: anyone who can write in the cache directory
// as the mail uid, a full disk or a crash mid-write can leave anything there.
// decodeMailboxCache() (remote_mailbox_cache_decoder.h) accepts only what
// encodeMailboxCache() (remote_mailbox_cache_encoder.h) writes, checks every
// count, length and value again (names as the directory mapping does, URLs
// re-parsed with parseImapUrl), and answers a one-line, log-safe reason for
// anything else; it never trusts a length it has not checked against the
// bytes it holds.  This header holds what both sides share: the format, its
// limits, the record, and the checks of a value.
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
//   end <16 hex: mailboxCacheChecksum of every byte before "end">
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "remote_mailbox.h"
#include "settings.h"

namespace dref {

constexpr std::string_view kMailboxCacheMagic = "dovecot-referral-mailbox-cache";
constexpr int kMailboxCacheFormatVersion = 1;
constexpr size_t kMailboxCacheMaxUrlsPerMailbox = 64;
constexpr size_t kMailboxCacheMaxUserBytes = 1024;
constexpr size_t kMailboxCacheMaxDnBytes = 4096;
// imapMailboxName is {1024}, as entry_mapping checks.
constexpr size_t kMailboxCacheMaxNameBytes = 1024;

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

// What a name or a DN must be to be in the file, as the directory mapping
// accepts it (entry_mapping.cpp): 1 to maxBytes octets of UTF-8 without
// control characters (C0, DEL or C1).
bool isMailboxCacheText(std::string_view text, size_t maxBytes);

// A location's URL as the directory mapping takes an imapMailboxURL:
// parseImapUrl's checks (the host, a mailbox part that is UTF-8 without C0
// controls), and isMailboxCacheText of the mailbox part (no C1 control, at
// most kMailboxCacheMaxNameBytes).  nullopt and *why otherwise.  `parser`:
// a decoder's URLs in a row (ImapUrlParser, the same answers).
std::optional<ImapUrlParts> parseMailboxCacheLocation(std::string_view url, std::string* why);
std::optional<ImapUrlParts> parseMailboxCacheLocation(ImapUrlParser& parser, std::string_view url,
                                                      std::string* why);

}  // namespace dref
