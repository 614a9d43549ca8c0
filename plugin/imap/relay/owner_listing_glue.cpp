// What an owning server lists below a remote entry (issue 12 item 4), asked
// through the entry's relay namespace: Dovecot's imapc list sends
// LIST "" "<owner's name>*" on the relay's connection and maps the answer
// into the user's view (imapc_list_prefix), so this file only iterates that
// list.  The answer is checked in plugin/core (validateOwnerListing).
//
// The iteration runs imapc's own command loop until the owner answers or
// imapc gives up (its connect and command timeouts, docs/mailbox-relay.md
// §2.1), as every relayed command does.
#include "imap_glue.h"

namespace dref {

bool listOwnerInferiors(struct client* client, MailboxReferralSession* session,
                        const RemoteMailboxEntry& entry, std::vector<OwnerMailbox>* out,
                        std::string* error) {
    const std::string vname(entry.vname());
    struct mail_namespace* ns = relayNamespaceFor(client->user, session, vname.c_str());
    if (ns == nullptr) {
        *error = "the entry cannot be relayed";
        return false;
    }
    // The plugin's own list filter would hide these remote names.
    OverrideBypass bypass;
    const std::string pattern = vname + session->table().separator() + "*";
    struct mailbox_list_iterate_context* iter = mailbox_list_iter_init(
        ns->list, pattern.c_str(), static_cast<enum mailbox_list_iter_flags>(0));
    const struct mailbox_info* info;
    try {
        while ((info = mailbox_list_iter_next(iter)) != nullptr) {
            OwnerMailbox m;
            m.vname = info->vname;
            m.noselect = (info->flags & (MAILBOX_NOSELECT | MAILBOX_NONEXISTENT)) != 0;
            out->push_back(std::move(m));
        }
    } catch (...) {
        // Out of memory for a huge answer: the iteration is Dovecot's and
        // must end before the exception goes on to the command's handler.
        (void)mailbox_list_iter_deinit(&iter);
        out->clear();
        throw;
    }
    if (mailbox_list_iter_deinit(&iter) < 0) {
        enum mail_error code;
        *error = mailbox_list_get_last_error(ns->list, &code);
        out->clear();
        return false;
    }
    return true;
}

}  // namespace dref
