#pragma once
// Parsing RFC 5092 IMAP URLs as the directory stores them (imapHomeServerURL,
// imapMailboxURL) into their parts.  Every value is untrusted.
#include <optional>
#include <string>
#include <string_view>

#include "imap_url_parts.h"

namespace dref {

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

// The server part (user, ;AUTH=, host, port) of the last URL whose server
// part parsed, as ImapUrlParser keeps it.
struct ImapUrlServerCache {
    bool valid = false;
    std::string authority;  // the text between "imap://" and the first '/'
    ImapUrlParts parts;     // user, auth, host and port parsed from it; nothing else set
};

// parseImapUrl for many URLs in a row, e.g. the locations of a directory
// answer, which name one server for most of its mailboxes (issue 13 item 4:
// the host check was a sixth of a URL's parse): a URL whose server part is
// the very text of the previous one whose server part parsed takes that
// one's user, auth, host and port instead of parsing them again.  Every
// other check runs as in parseImapUrl, so every URL gets exactly
// parseImapUrl's result, error and notes.
class ImapUrlParser {
public:
    std::optional<ImapUrlParts> parse(std::string_view url, std::string* error,
                                      ImapUrlParseNotes* notes = nullptr);

private:
    ImapUrlServerCache server_;
};

}  // namespace dref
