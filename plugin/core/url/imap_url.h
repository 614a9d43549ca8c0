#pragma once
// RFC 5092 IMAP URLs as they appear inside a REFERRAL response code
// (RFC 2221 login referrals, RFC 2193 mailbox referrals).
//
// The builder emits the canonical form pinned by REQUIREMENTS.md §4.5:
// minimal percent-encoding with uppercase hex (D-12), always a user and/or
// ";AUTH=" (D-2), always the "/" after the authority (D-1), no port when it
// is 143, and nothing that may not stand inside "[REFERRAL ...]" (R3501-1):
// IPv6 literals are refused (D-4).
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

// What parseImapUrl accepted but a referral must not repeat verbatim.
struct ImapUrlParseNotes {
    // No user and no ";AUTH=": as a referral this would mean an anonymous
    // login (R5092-4, D-2).  Normal for a directory home server URL, which
    // only names host and port; the builder then adds the user and ";AUTH=*".
    bool anonymous = false;
    // "imap://host" without "/": legal in RFC 5092, but not in RFC 2192 and
    // mis-parsed by older clients (D-1).  The builder always writes the "/".
    bool missingSlash = false;
    // The mailbox looks like modified UTF-7 left in the URL ("&...-" that
    // decodes to non-ASCII), which R5092-10 forbids; it was probably meant as
    // the percent-encoded UTF-8 form.
    bool mailboxLooksLikeMutf7 = false;
};

// Builds the referral URL, or returns nullopt and sets *error to a one-line
// reason (safe to log: it never echoes the raw input unescaped).
std::optional<std::string> buildImapUrl(const ImapUrlParts& parts, std::string* error);

// A server URL's parts as views of the caller's strings, for
// appendImapServerUrl().
struct ImapServerUrlView {
    std::string_view user;
    std::string_view auth = "*";
    std::string_view host;
    uint16_t port = 143;
};

// Appends what buildImapUrl() builds for these parts without a mailbox, to
// *out, without a temporary string (the login plugin builds one per
// referral login into a buffer it keeps: docs/benchmarks.md, issue 13).
// false and *error set (*out unchanged) when buildImapUrl() would refuse.
bool appendImapServerUrl(std::string* out, const ImapServerUrlView& parts, std::string* error);

// Percent-encodes per RFC 5092: `achar` set for user/auth, `bchar` set plus the
// R5092-12 dot-segment and leading-slash rules for mailboxes. Uppercase hex.
std::string encodeUserinfo(std::string_view utf8);
std::string encodeMailbox(std::string_view utf8);

// Parses an absolute imap:// server or mailbox URL (as stored in the directory
// attributes imapHomeServerURL / imapMailboxURL). Percent-decodes user and
// mailbox, validates UTF-8, rejects relative URLs, IPv6 literals, CR/LF/NUL,
// control characters and over-long input (> 2048 bytes).
// Message-part, search and URLAUTH URLs (";UID=", "?", ";URLAUTH=") are
// refused: a referral names a server or a mailbox.  The parsed `auth` is ""
// when the URL has no ";AUTH=".  Scheme, ";AUTH=" and ";UIDVALIDITY=" are
// case-insensitive (R5092-20); percent-hex may be either case.
std::optional<ImapUrlParts> parseImapUrl(std::string_view url, std::string* error);
std::optional<ImapUrlParts> parseImapUrl(std::string_view url, std::string* error,
                                         ImapUrlParseNotes* notes);

// True for a SASL mechanism name as RFC 4422 §3.1 defines it (1-20 of
// A-Z 0-9 - _); lower-case letters are accepted as IMAP matches them
// case-insensitively.
bool isValidSaslMechanism(std::string_view mech);

// True when `host` is a syntactically valid DNS name (LDH labels, 1..253
// characters, A-labels for IDN) or a dotted-quad IPv4 address.  Refused:
// IPv6 literals (D-4), a trailing root dot, an all-numeric top label that is
// not a dotted quad, octets with leading zeros (octal ambiguity), "_".
bool isValidHostName(std::string_view host);

}  // namespace dref
