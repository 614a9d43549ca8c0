// The relay's guard of its imapc client's untagged LIST/LSUB replies
// (dovecot_compat_relay_guard.h).  Not version-dependent itself: it reads
// imapc's private list and client structs, whose members it uses are the
// same in 2.3.19.1 and 2.4.1, and so belongs to the compat layer.
#include "dovecot_compat_relay_guard.h"

#include <new>

#include "mailbox_relay.h"
#include "owner_listing.h"
#include "owner_reply_bounds.h"
#include "response_text.h"

extern "C" {
#include "imap-arg.h"
#include "imapc-client-private.h"
#include "imapc-connection.h"
#include "imapc-storage.h"
#include "imapc-list.h"
}

namespace dref {
namespace compat {

namespace {

// Sits between a relay namespace's imapc client and imapc's own handler of
// untagged replies, and drops LIST/LSUB answers whose mailbox is not at or
// below imapc_list_prefix: imapc asserts that they are (imapc-list.c:
// imapc_list_get_vname()) and the imap process would panic on an owner's
// sibling "<prefix>Old" or on any hostile name.  The rule is
// classifyOwnerListReply() (plugin/core).  It also bounds one answer
// (ownerAnswerOverBound()), drops every LSUB (see guardedUntagged()), bounds
// the untagged replies of one command (OwnerReplyBudget) and checks the
// entry's name again once the owner's separator is known.
struct ListReplyGuard {
    imapc_untagged_callback_t* original;
    void* originalContext;
    // The relay's imapc client, whose connections are dropped when an
    // answer passes its bound.
    struct imapc_client* client;
    // LIST names of the current answer handed to imapc.
    size_t passed;
    // Whose list's separator imapc maps every name with (its _list is what
    // imapc's own LIST handler reads; the client lives as long as any
    // reply can reach this guard).
    const struct imapc_storage_client* storageClient;
    const char* prefix;  // imapc_list_prefix, modified UTF-7
    const char* username;
    unsigned int dropped;
    struct mail_user* user;
    uint64_t (*commandSerial)(struct mail_user* user) noexcept;
    OwnerReplyBudget budget;
    // The owner's separator makes imapc_list_prefix one that imapc escapes:
    // nothing of this owner reaches imapc any more.
    bool unusable;
};

constexpr unsigned int kLoggedDrops = 5;

// imapc starts every listing of the owner's names with an empty mailbox
// tree (imapc-list.c: imapc_list_refresh() replaces it before it sends
// LIST), so an empty tree is where a new answer begins.
bool treeIsEmpty(struct mailbox_tree_context* tree) {
    if (tree == nullptr) return true;
    struct mailbox_tree_iterate_context* iter = mailbox_tree_iterate_init(tree, nullptr, 0);
    const char* path;
    const bool empty = mailbox_tree_iterate_next(iter, &path) == nullptr;
    mailbox_tree_iterate_deinit(&iter);
    return empty;
}

// Ends the owner's answer: every connection of the relay's imapc client is
// disconnected, which fails the commands waiting on it ("Disconnected from
// server"; imapc_connection_disconnect() does not retry them, unlike a
// connection the owner broke) and stops imapc's command loop.  imapc
// itself disconnects from inside its input handler on bad input
// (imapc_connection_input_error()), and keeps its parser alive across the
// untagged callback for that ("the callback may disconnect",
// imapc-connection.c: imapc_connection_input_untagged(), 2.3.19.1 and
// 2.4.1); imapc_client_disconnect() would instead free the connections
// under the running handler.  The next command reconnects.
// The array is read again after each disconnect: the failed commands'
// callbacks run inside imapc_connection_disconnect().
void dropOwnerConnections(struct imapc_client* client) {
    for (unsigned int i = 0;; ++i) {
        unsigned int count = 0;
        struct imapc_client_connection* const* conns = array_get(&client->conns, &count);
        if (i >= count) return;
        imapc_connection_disconnect(conns[i]->conn);
    }
}

// Every untagged reply of the owner passes here (imapc hands them all to its
// client's untagged callback): past the bound of one command, the owner's
// connection is dropped and the command fails as for an owner that is down.
bool overReplyBound(ListReplyGuard* g, const char* replyName) {
    const OwnerReplyKind kind = classifyOwnerUntagged(replyName);
    const uint64_t serial = g->commandSerial != nullptr ? g->commandSerial(g->user) : 0;
    if (g->budget.admit(serial, kind)) return false;
    try {
        i_warning("mailbox relay: user=%s: the owner of %s sent more than %zu untagged replies "
                  "during one command: connection dropped",
                  quoteForLog(g->username).c_str(), quoteForLog(g->prefix).c_str(),
                  kind == OwnerReplyKind::PerMessage ? kMaxOwnerMessageRepliesPerCommand
                                                     : kMaxOwnerUntaggedPerCommand);
    } catch (...) {
    }
    dropOwnerConnections(g->client);
    return true;
}

// The LIST line that tells imapc the owner's separator (imapc takes the
// first one, imapc_untagged_list()): imapc escapes the owner's names with
// it, so the entry's name is checked again with it (unmappableOwnerPrefix():
// with "." as the separator, a '/' in "Team/Ops" is escaped and the imap
// process panicked at the first answer).  False when it must not reach imapc.
bool ownerSeparatorUsable(ListReplyGuard* g, const struct imapc_untagged_reply* reply) {
    const char* sep = nullptr;
    if (strcasecmp(reply->name, "LIST") != 0 || !imap_arg_get_nstring(&reply->args[1], &sep))
        return true;
    const char ownerSep = sep == nullptr ? '/' : sep[0];
    const char* why = ownerSep == '\0' ? nullptr : unmappableOwnerPrefix(g->prefix, ownerSep);
    if (why == nullptr) return true;
    g->unusable = true;
    try {
        i_warning("mailbox relay: user=%s: the owner of %s answers with the hierarchy separator "
                  "%s: %s; none of its mailboxes is relayed",
                  quoteForLog(g->username).c_str(), quoteForLog(g->prefix).c_str(),
                  quoteForLog(std::string("'") + ownerSep + "'").c_str(), why);
    } catch (...) {
    }
    dropOwnerConnections(g->client);
    return false;
}

void guardedUntagged(const struct imapc_untagged_reply* reply, void* context) {
    auto* g = static_cast<ListReplyGuard*>(context);
    if (g->unusable) {
        dropOwnerConnections(g->client);
        return;
    }
    if (reply->name != nullptr && overReplyBound(g, reply->name)) return;
    const char* name = nullptr;
    if (reply->name != nullptr &&
        (strcasecmp(reply->name, "LIST") == 0 || strcasecmp(reply->name, "LSUB") == 0) &&
        !IMAP_ARG_IS_EOL(&reply->args[0]) && !IMAP_ARG_IS_EOL(&reply->args[1]) &&
        imap_arg_get_astring(&reply->args[2], &name)) {
        // The separator imapc maps names with is the one of the owner's
        // first LIST answer (imapc_untagged_list(): root_sep), not the one
        // a later line claims: "<prefix>.x" said to have separator "." is
        // still a sibling for imapc, and asserts there.  Before that first
        // answer imapc reads only the separator of a LIST line (and ignores
        // LSUB), so nothing of the name can reach its assertions.
        const struct imapc_mailbox_list* list = g->storageClient->_list;
        if (list == nullptr || list->root_sep == '\0') {
            if (ownerSeparatorUsable(g, reply)) g->original(reply, g->originalContext);
            return;
        }
        // A relay namespace has no subscriptions (subscriptions = no), so
        // imapc never asks LSUB there; imapc would still put an LSUB line
        // into the list's subscription tree (imapc_untagged_lsub()), and
        // three of them killed the imap process with signal 11 (2.3.19.1).
        const bool lsub = strcasecmp(reply->name, "LSUB") == 0;
        const OwnerListReply verdict =
            lsub ? OwnerListReply::Refuse : classifyOwnerListReply(name, g->prefix, list->root_sep);
        // imapc's LIST "" "<prefix>*" also matches the owner's siblings
        // ("<prefix>Old"): expected, dropped quietly.  Anything else was not
        // asked for or is no modified UTF-7 name: a warning (the first few
        // per relay namespace).
        if (verdict == OwnerListReply::Sibling) return;
        if (verdict == OwnerListReply::Refuse) {
            if (g->dropped++ >= kLoggedDrops) return;
            try {
                i_warning("mailbox relay: user=%s: the owner of %s answered %s %s, %s: ignored",
                          quoteForLog(g->username).c_str(), quoteForLog(g->prefix).c_str(),
                          lsub ? "LSUB" : "LIST", quoteForLog(name).c_str(),
                          lsub ? "which the relay never asks" : "not a name in that subtree");
            } catch (...) {
            }
            return;
        }
        if (treeIsEmpty(list->mailboxes)) g->passed = 0;
        if (ownerAnswerOverBound(++g->passed)) {
            try {
                i_warning("mailbox relay: user=%s: the owner of %s answered more than %zu names "
                          "to one LIST: connection dropped",
                          quoteForLog(g->username).c_str(), quoteForLog(g->prefix).c_str(),
                          kMaxOwnerRepliesPerAnswer);
            } catch (...) {
            }
            dropOwnerConnections(g->client);
            return;
        }
    }
    g->original(reply, g->originalContext);
}

}  // namespace

// Installed before any reply can be read: the client connects at the first
// command, replies are read when an ioloop runs.
bool guardListReplies(struct mail_namespace* ns, const ImapcNamespaceSpec& spec, std::string* error) {
    if (ns->list == nullptr || strcmp(ns->list->name, "imapc") != 0) {
        *error = "the relay namespace's mailbox list is not imapc";
        return false;
    }
    auto* list = reinterpret_cast<struct imapc_mailbox_list*>(ns->list);
    struct imapc_client* client = list->client != nullptr ? list->client->client : nullptr;
    if (client == nullptr || client->untagged_callback == nullptr) {
        *error = "the relay namespace has no imapc client";
        return false;
    }
    // Freed with the user's pool, without a destructor (nothing in it needs one).
    auto* g = new (p_malloc(ns->user->pool, sizeof(ListReplyGuard))) ListReplyGuard();
    g->original = client->untagged_callback;
    g->originalContext = client->untagged_context;
    g->storageClient = list->client;
    g->client = client;
    g->prefix = p_strdup(ns->user->pool, spec.remotePrefix.c_str());
    g->username = p_strdup(ns->user->pool, ns->user->username);
    g->user = ns->user;
    g->commandSerial = spec.commandSerial;
    imapc_client_register_untagged(client, guardedUntagged, g);
    return true;
}

}  // namespace compat
}  // namespace dref
