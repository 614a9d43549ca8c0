// Relay of remote mailboxes through Dovecot's own imapc storage (issue 12,
// docs/mailbox-relay.md).  The decisions are in plugin/core/mailbox_relay/mailbox_relay:
// this file only
//  - adds the hidden imapc namespace of a remote entry when a mailbox name
//    of the entry is first allocated in one of the user's own namespaces,
//    and hands that mailbox to it (compat::redirectStorageLookups(), the
//    way Dovecot's shared namespaces create theirs).  Every command that
//    names a mailbox allocates it, so every one of them (SELECT, APPEND,
//    RENAME, GETMETADATA, ...) reaches the relay, with no list of commands
//    and no reading of their arguments (APPEND's literal is untouched).
//    From then on mail_namespace_find() takes the longest prefix, so the
//    entry and everything below it go to the namespace directly.  A
//    namespace is made at the first use, so an owning server is connected
//    to only when one of its mailboxes is used;
//  - turns a failure to reach the owning server into NO [UNAVAILABLE]
//    (imapc reports a lost or refused connection as an internal error;
//    storage_glue.cpp's overrides ask relayResult()), and keeps a selected
//    relayed mailbox whose owner went away from ending the client session
//    (relayIsInconsistent());
//  - bounds the relay namespaces of a session (mailbox_relay_max_mailboxes).
#include <cstring>

#include "imap_glue.h"
#include "mailbox_relay.h"
#include "owner_reply_bounds.h"
#include "relay_connection.h"
#include "response_text.h"

namespace dref {
namespace {

constexpr char kNamespaceTag[] = "dref-relay:";

struct mail_namespace* findRelayNamespace(struct mail_user* user, const std::string& prefix) {
    for (struct mail_namespace* ns = user->namespaces; ns != nullptr; ns = ns->next)
        if (isRelayNamespace(ns) && prefix == ns->prefix) return ns;
    return nullptr;
}

// The connection settings of a relay namespace (relay_connection.h).
void setConnection(compat::ImapcNamespaceSpec* spec, const MailboxReferralSession& session,
                   uint16_t urlPort) {
    const ImapcConnection c = imapcConnectionFor(session.settings().mailbox.relayConnection, urlPort);
    spec->port = c.port;
    spec->ssl = c.ssl;
    spec->verifyCertificate = c.verifyCertificate;
    spec->caFile = c.caFile;
    spec->timeoutSeconds = c.timeoutSeconds;
}

// compat::StorageRedirect for the lists of the user's own namespaces: a
// remote name of a relaying session goes to its entry's relay namespace.
// The plugin's own bookkeeping (OverrideBypass: home subscriptions of
// remote names) stays in the user's namespace.
struct mail_namespace* relayRedirect(struct mailbox_list* list, const char* vname) noexcept {
    if (OverrideBypass::active() || isRelayNamespace(list->ns)) return nullptr;
    struct mail_namespace* ns = nullptr;
    guarded("mailbox relay", [&] {
        struct mail_user* user = list->ns->user;
        MailboxReferralSession* session = sessionForUser(user);
        if (session != nullptr && relaysRemoteMailboxes(*session))
            ns = relayNamespaceFor(user, session, vname);
    });
    return ns;
}

void mailboxListCreated(struct mailbox_list* list) {
    compat::redirectStorageLookups(list, relayRedirect);
}

struct mail_storage_hooks g_hooks;

}  // namespace

struct mail_namespace* relayNamespaceFor(struct mail_user* user, MailboxReferralSession* session,
                                         const char* vname) {
    std::string why;
    std::optional<RelayTarget> target = relayTargetFor(*session, vname, &why);
    if (!target) {
        if (!why.empty())
            i_warning("mailbox relay: user=%s mailbox=%s cannot be relayed: %s",
                      quoteForLog(user->username).c_str(), quoteForLog(vname, 200).c_str(),
                      why.c_str());
        return nullptr;
    }
    if (struct mail_namespace* ns = findRelayNamespace(user, target->prefix)) return ns;
    const size_t inUse = relayNamespaceCount(user);
    if (!relayAdmitsAnother(session->settings().mailbox.relayConnection, inUse)) {
        // The name stays in the user's own namespace, where the storage
        // override answers NO [LIMIT] (decideOutsideRelayNamespace).
        i_warning("mailbox relay: user=%s mailbox=%s not relayed: the session already relays "
                  "%zu remote mailboxes (mailbox_relay_max_mailboxes)",
                  quoteForLog(user->username).c_str(), quoteForLog(target->entryVname, 200).c_str(),
                  inUse);
        return nullptr;
    }
    compat::ImapcNamespaceSpec spec;
    spec.name = std::string(kNamespaceTag) + target->entryVname;
    spec.prefix = target->prefix;
    spec.separator = target->separator;
    spec.host = target->host;
    setConnection(&spec, *session, target->port);
    spec.user = target->user;
    spec.masterUser = session->settings().mailbox.relayMasterUser;
    spec.password = session->settings().mailbox.relayMasterPassword;
    spec.remotePrefix = target->remoteWireName;
    spec.prefetchCount = kRelayMailPrefetchCount;
    spec.maxLineLength = kMaxOwnerLineLength;
    spec.commandSerial = commandSerialOf;
    std::string error;
    if (!compat::addImapcNamespace(user, spec, &error)) {
        // The name stays in the user's own namespace, where the storage
        // override answers it as in a session without the relay.
        i_error("mailbox relay: user=%s mailbox=%s: cannot relay to %s:%u: %s",
                quoteForLog(user->username).c_str(), quoteForLog(target->entryVname, 200).c_str(),
                quoteForLog(target->host).c_str(), static_cast<unsigned int>(target->port),
                quoteForLog(error, 300).c_str());
        return nullptr;
    }
    e_debug(user->event, "mailbox relay: %s -> imap://%s:%u/%s as %s (imapc_ssl=%s)",
            quoteForLog(target->entryVname, 200).c_str(), quoteForLog(target->host).c_str(),
            static_cast<unsigned int>(spec.port), quoteForLog(target->remoteName, 200).c_str(),
            quoteForLog(target->user).c_str(), spec.ssl.c_str());
    return findRelayNamespace(user, target->prefix);
}

bool isRelayNamespace(const struct mail_namespace* ns) {
    return ns != nullptr && ns->set != nullptr && ns->set->name != nullptr &&
           std::strncmp(ns->set->name, kNamespaceTag, sizeof(kNamespaceTag) - 1) == 0;
}

size_t relayNamespaceCount(struct mail_user* user) {
    size_t n = 0;
    for (struct mail_namespace* ns = user->namespaces; ns != nullptr; ns = ns->next)
        if (isRelayNamespace(ns)) ++n;
    return n;
}

int relayResult(struct mailbox* box, int ret) {
    // imapc sets MAIL_ERROR_TEMP ("Internal error") when the owning server
    // cannot be reached or the connection breaks; for the client that is
    // the owner being unavailable, not a bug of this server.
    // MAIL_ERROR_LOOKUP_ABORTED ("Mail field not cached"): imapc could not
    // fetch what the index lacks, because the connection is gone.
    const enum mail_error error = ret < 0 ? mailbox_get_last_mail_error(box) : MAIL_ERROR_NONE;
    if (ret < 0 && isRelayNamespace(box->list->ns) &&
        (error == MAIL_ERROR_TEMP || error == MAIL_ERROR_LOOKUP_ABORTED))
        mail_storage_set_error(box->storage, MAIL_ERROR_UNAVAILABLE,
                               "The server that holds this mailbox is not available now.");
    return ret;
}

bool relayIsInconsistent(struct mailbox* box) {
    // imapc calls a selected mailbox inconsistent as soon as its connection
    // to the owner is down (imapc-storage.c: imapc_is_inconsistent(), "not
    // opened"), and Dovecot's imap then ends the whole client session with
    // "* BYE IMAP session state is inconsistent, please relogin."
    // (imap-sync.c, client_disconnect_if_inconsistent()).  For the relay that
    // is an unavailable owner, not a broken session: its commands fail
    // (NO) and the client can select something else, or the same mailbox
    // again once the owner is back.  What the client was told stays right:
    // nothing changes in the index while the owner is away, and an owner
    // that comes back with another UIDVALIDITY makes imapc reset the index
    // (imapc-mailbox.c, mail_index_mark_corrupted()), which leaves the view
    // inconsistent: that is still reported here, and ends the session.
    return box->view != nullptr && mail_index_view_is_inconsistent(box->view);
}

void mailboxRelayInit(struct module* module) {
    g_hooks = mail_storage_hooks();
    g_hooks.mailbox_list_created = mailboxListCreated;
    mail_storage_hooks_add(module, &g_hooks);
}

void mailboxRelayDeinit() { mail_storage_hooks_remove(&g_hooks); }

}  // namespace dref
