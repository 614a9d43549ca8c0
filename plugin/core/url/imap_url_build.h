#pragma once
// Building RFC 5092 IMAP URLs for a REFERRAL response code (RFC 2221 login
// referrals, RFC 2193 mailbox referrals).
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

#include "imap_url_parts.h"

namespace dref {

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

// True when encodeUserinfo(utf8) == utf8: every octet is an achar, so the
// URL shows the name as it is.
bool isVerbatimUserinfo(std::string_view utf8);

// Percent-encodes per RFC 5092: `achar` set for user/auth, `bchar` set plus the
// R5092-12 dot-segment and leading-slash rules for mailboxes. Uppercase hex.
std::string encodeUserinfo(std::string_view utf8);
std::string encodeMailbox(std::string_view utf8);

}  // namespace dref
