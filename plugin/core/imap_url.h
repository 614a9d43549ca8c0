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
};

// Builds the referral URL, or returns nullopt and sets *error to a one-line
// reason (safe to log: it never echoes the raw input unescaped).
std::optional<std::string> buildImapUrl(const ImapUrlParts& parts, std::string* error);

// Percent-encodes per RFC 5092: `achar` set for user/auth, `bchar` set plus the
// R5092-12 dot-segment and leading-slash rules for mailboxes. Uppercase hex.
std::string encodeUserinfo(std::string_view utf8);
std::string encodeMailbox(std::string_view utf8);

// Parses an absolute imap:// server or mailbox URL (as stored in the directory
// attributes imapHomeServerURL / imapMailboxURL). Percent-decodes user and
// mailbox, validates UTF-8, rejects relative URLs, IPv6 literals, CR/LF/NUL,
// control characters and over-long input (> 2048 bytes).
std::optional<ImapUrlParts> parseImapUrl(std::string_view url, std::string* error);

// True when `host` is a syntactically valid DNS name (LDH labels, 1..253
// characters, A-labels for IDN) or a dotted-quad IPv4 address.
bool isValidHostName(std::string_view host);

}  // namespace dref
