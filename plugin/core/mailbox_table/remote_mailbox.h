#pragma once
// A mailbox that lives on another server (RFC 2193 "remote mailbox").
#include <string>
#include <vector>

#include "imap_url.h"

namespace dref {

struct RemoteMailbox {
    // Name as the user sees it at home: UTF-8, hierarchy separator '/' as
    // stored in the directory (imapMailboxName); the imap plugin converts it
    // to the namespace's separator.  Covers the mailbox and its inferiors.
    std::string name;
    // Where it lives, preferred first (R2193-8, R2193-9): parsed and validated
    // imapMailboxURL values.  The mailbox part is the remote server's name for
    // it (D-19); when the URL has no mailbox part, `name` is used.
    std::vector<ImapUrlParts> locations;
    std::string dn;
    bool personal = false;  // below the user's entry (vs shared base)
};

}  // namespace dref
