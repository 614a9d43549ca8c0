#pragma once
// IMAP LIST mailbox patterns (RFC 3501 §6.3.8) as RLIST and RLSUB need them
// (RFC 2193 §5): "*" matches any run of characters including the hierarchy
// separator, "%" the same except the separator.  Names and patterns are
// UTF-8 (decoded from modified UTF-7 at the edge) with the namespace's
// separator.  "INBOX" as the first level of a name is case-insensitive, as
// RFC 3501 §5.1 requires and Dovecot's LIST does.
#include <string>
#include <string_view>

namespace dref {

class ListPattern {
public:
    // Joins reference and pattern the way Dovecot's LIST does for the
    // default mailbox list (plain concatenation, RFC 3501 §6.3.8 leaves the
    // interpretation to the server).  `separator` is the namespace's.
    ListPattern(std::string_view reference, std::string_view pattern, char separator);

    // True when `name` matches the whole joined pattern.  Linear in
    // |pattern| * |name|, no backtracking blow-up.
    bool matches(std::string_view name) const;

    // True when some name strictly below `name` (name + separator + at
    // least one more character) could match: the listing of a remote
    // entry's inferiors is worth asking its owner for.  Conservative: it
    // may say true for a subtree where nothing matches, never false where
    // something could.
    bool mayMatchBelow(std::string_view name) const;

    // The part of the joined pattern before its first wildcard, with a
    // leading "INBOX" level upper-cased.  Names not starting with it cannot
    // match, unless prefixMayMatchInboxCase(): the prefix ends inside the
    // first level, which an INBOX in any case may complete.
    const std::string& literalPrefix() const { return literalPrefix_; }
    bool prefixMayMatchInboxCase() const { return prefixMayMatchInboxCase_; }

    // RFC 3501: when "%" is the last character, the hierarchy levels that
    // lead to matching names are returned too (as \Noselect when they are
    // not mailboxes).
    bool endsWithPercent() const;

    const std::string& joined() const { return joined_; }
    char separator() const { return separator_; }

private:
    std::string joined_;
    std::string literalPrefix_;
    bool prefixMayMatchInboxCase_ = false;
    char separator_;
};

// "inbox", "Inbox/x" ... -> "INBOX", "INBOX/x": upper-cases a first level
// that equals INBOX case-insensitively.  Other names are returned unchanged.
std::string normalizeInboxPrefix(std::string_view name, char separator);

}  // namespace dref
