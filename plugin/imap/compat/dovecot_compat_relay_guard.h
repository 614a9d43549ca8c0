#pragma once
// Inside the imap plugin's compat layer only (dovecot_compat_relay.cpp):
// the guard a relay namespace's imapc client gets before it is used.
#include <string>

#include "dovecot_compat.h"

namespace dref {
namespace compat {

// Puts a filter between the namespace's imapc client and imapc's own
// handler of untagged replies: LIST answers whose mailbox is not at or
// below spec.remotePrefix are dropped (imapc asserts that they are, and the
// imap process would panic on an owner's sibling or a hostile name), one
// answer is bounded (ownerAnswerOverBound(): the owner's connections are
// dropped past it), every LSUB is dropped, the untagged replies of one
// command and the entry's name with the owner's separator are checked
// (owner_reply_bounds.h, unmappableOwnerPrefix()).  Installed before any reply
// can be read.  False + *error when the namespace's list is not imapc's.
bool guardListReplies(struct mail_namespace* ns, const ImapcNamespaceSpec& spec, std::string* error);

}  // namespace compat
}  // namespace dref
