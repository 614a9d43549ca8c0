#pragma once
// The parts of an RFC 5092 IMAP URL as a REFERRAL response code carries them
// (RFC 2221 login referrals, RFC 2193 mailbox referrals), and what makes a
// part valid: the parser (imap_url_parse.h) and the builder
// (imap_url_build.h) apply the same checks.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dref {

struct ImapUrlParts {
    std::string user;        // UTF-8 authorization identity; may be empty
    std::string auth = "*";  // "*", a SASL mechanism name, or "" for no ;AUTH=
    std::string host;        // DNS name or IPv4 address; never empty, never IPv6
    uint16_t port = 143;     // omitted from the URL when 143
    std::optional<std::string> mailbox;  // UTF-8 mailbox name (not mUTF-7); absent = server URL
    // ";UIDVALIDITY=n" after the mailbox (R5092-15: only when known for the
    // referred replica).  Ignored without a mailbox.
    std::optional<uint32_t> uidValidity;
};

constexpr size_t kMaxImapUrlLength = 2048;  // imapMailboxURL is IA5{2048}
constexpr size_t kMaxHostNameLength = 253;  // RFC 1035 name, without the root dot

// True for a SASL mechanism name as RFC 4422 §3.1 defines it (1-20 of
// A-Z 0-9 - _); lower-case letters are accepted as IMAP matches them
// case-insensitively.
bool isValidSaslMechanism(std::string_view mech);

// True when `host` is a syntactically valid DNS name (LDH labels, 1..253
// characters, A-labels for IDN) or a dotted-quad IPv4 address.  Refused:
// IPv6 literals (D-4), a trailing root dot, an all-numeric top label that is
// not a dotted quad, octets with leading zeros (octal ambiguity), "_".
bool isValidHostName(std::string_view host);

// The check of a (decoded) user or mailbox name: valid UTF-8 (R5092-11) and
// no C0 control or DEL.  false sets *error to "<what> is not valid UTF-8" or
// "<what> contains a control character".
bool checkImapUrlName(std::string_view value, const char* what, std::string* error);

}  // namespace dref
