#pragma once
// How much an owning server may send the relay's imapc (docs/mailbox-relay.md
// §3.8).  imapc bounds neither the untagged replies of one command nor, by
// default, the length of one line: it resets its command timeout on every
// line it reads, so an owner that answers a SELECT with "* OK" lines
// without end holds the command (and the client's session) for as long as
// it likes, and one line without end grows the imap process until
// vsz_limit.  The relay's reply filter (plugin/imap) counts what imapc gets
// during each command of the client with OwnerReplyBudget and drops the
// owner's connection past the bound; the line length is imapc's own
// imapc_max_line_length, set in every relay namespace.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dref {

// imapc_max_line_length of a relay namespace: the longest line, literals
// not counted (imapc reads a FETCH literal as a stream), that imapc reads
// from an owner before it drops the connection.  The longest lines a
// Dovecot owner sends the relay are a SEARCH answer (8 octets per UID: a
// whole mailbox of about 2 million messages fits) and BODYSTRUCTUREs.
constexpr uint64_t kMaxOwnerLineLength = 16u * 1024 * 1024;

// Untagged replies of an owner during one command of the client that carry
// no per-message data (OK, NO, BAD, CAPABILITY, FLAGS, SEARCH, STATUS,
// METADATA...): a few per command of imapc, and a client command makes
// at most a few hundred of those.
constexpr size_t kMaxOwnerUntaggedPerCommand = 10000;

// FETCH, EXPUNGE, VANISHED, EXISTS and RECENT: one per message, so a
// SELECT of a large mailbox brings one per message (imapc asks the flags
// of every message); a mailbox of more messages than this cannot be
// selected through the relay.
constexpr size_t kMaxOwnerMessageRepliesPerCommand = 10000000;

// LIST and LSUB have their own bound (owner_listing.h:
// kMaxOwnerRepliesPerAnswer) and are not counted here.
enum class OwnerReplyKind { Listing, PerMessage, Other };

// The kind of an untagged reply named `name` (imapc's reply name: "FETCH"
// for "* 5 FETCH (...)", "OK" for "* OK ..."), case-insensitive.
OwnerReplyKind classifyOwnerUntagged(std::string_view name) noexcept;

// The count of one relay namespace.  A new command of the client (its
// serial, from the glue's command hook) starts a new count; untagged replies
// that arrive between commands count towards the last one.
class OwnerReplyBudget {
public:
    // True when the reply may reach imapc; false when it is over the
    // bound of its kind (then the glue drops the owner's connection).
    bool admit(uint64_t commandSerial, OwnerReplyKind kind) noexcept;

private:
    uint64_t serial_ = 0;
    size_t other_ = 0;
    size_t perMessage_ = 0;
};

}  // namespace dref
