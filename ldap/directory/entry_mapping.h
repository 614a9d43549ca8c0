#pragma once
// Directory entries -> validated plugin/core records.  Pure functions: no
// LDAP connection, no clock, unit-testable with hand-made ldap::Entry values.
//
// Every value is untrusted.  A value that fails validation (bad syntax,
// CR/LF, ']', NUL or other controls, over-long, invalid UTF-8, several
// values of a single-valued attribute) is dropped and one warning naming the
// DN, the attribute and the (log-quoted) value is appended; it never reaches
// the record.  The user's placement values are validated by
// mapPlacementValues (plugin/core/placement/user_record_mapping.h), which also
// validates the same values when an earlier passdb returned them.
#include <string>
#include <string_view>
#include <vector>

#include "home_server.h"
#include "ldap_client.h"
#include "remote_mailbox.h"
#include "settings.h"
#include "user_record_mapping.h"

namespace dref {

constexpr size_t kMaxMailboxNameBytes = 1024;

enum class UserMappingStatus { Found, NotFound, Ambiguous };

// Maps the entries the user search returned.  Zero entries: NotFound.
// Several entries: Ambiguous (the record keeps no home server and
// homeError says why, matchingEntries how many; which entry is meant cannot
// be known, so none is trusted).  `moreLeft`: the search stopped at its
// size limit, more entries match than `entries` holds.  One entry: Found,
// with whatever of it is valid; with settings.passwordAttribute set also
// its stored password (record->password, or record->passwordError; never
// in *warnings, nothing of the value is logged).
UserMappingStatus mapUserEntries(const std::vector<ldap::Entry>& entries,
                                 const DirectorySettings& settings, UserRecord* record,
                                 std::vector<std::string>* warnings, bool moreLeft = false);

// One mapped mailbox in the mailbox cache file's line form
// (appendMailboxCacheEntry), for MailboxEntryMapper's encoding mode.
struct EncodedMailbox {
    std::string dn;      // to drop a shared entry that is also personal
    size_t offset = 0;   // its lines in MailboxEntryMapper::lines()
    size_t length = 0;
    std::string error;   // why it cannot be encoded (no lines then)
};

// Maps the entries of one remote-mailbox search, entry by entry as the LDAP
// client's worker thread reads them (ldap::EntryConsumer): the mapping
// overlaps with the server sending the rest of the answer.  The valid
// entries are collected in mailboxes(); entries without a usable name or
// without any valid URL are skipped with a warning naming their DN.  Read
// mailboxes(), encoded(), lines() and warnings() from the search's callback
// only.
//
// With `encode` (the referral-directory service), each mapped mailbox is
// also written in the mailbox cache file's line form right there, so the
// encoding overlaps with the server too (issue 13 item 4); only its DN and
// lines are kept (encoded(), lines()) and mailboxes() stays empty.
class MailboxEntryMapper final : public ldap::EntryConsumer {
public:
    MailboxEntryMapper(bool personal, const DirectorySettings& settings, bool encode = false);
    void take(ldap::Entry&& entry) override;
    void restart() override;
    std::vector<RemoteMailbox>& mailboxes() { return mailboxes_; }
    const std::vector<EncodedMailbox>& encoded() const { return encoded_; }
    const std::string& lines() const { return lines_; }
    std::vector<std::string>& warnings() { return warnings_; }

private:
    void encodeLast();

    const bool personal_;
    const bool encode_;
    const std::string nameAttribute_;
    const std::string urlAttribute_;
    std::vector<RemoteMailbox> mailboxes_;
    std::vector<EncodedMailbox> encoded_;
    std::string lines_;
    std::vector<std::string> warnings_;
    // The texts of the entry being taken's kept URLs, one per location.
    std::vector<std::string_view> sourceUrls_;
};

// A MailboxEntryMapper over a list the caller already has (tests, the fuzz
// target, benchmarks): appends the valid entries to *out and the warnings
// to *warnings, in the mapper's order.
void mapMailboxEntries(const std::vector<ldap::Entry>& entries, bool personal,
                       const DirectorySettings& settings, std::vector<RemoteMailbox>* out,
                       std::vector<std::string>* warnings);

// user_filter with %u (login name), %n (local part), %d (domain) replaced by
// their RFC 4515-escaped values and %% by %.  Other % sequences stay as written.
std::string expandUserFilter(const std::string& pattern, const std::string& loginName);

}  // namespace dref
