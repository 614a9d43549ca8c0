// Relay of remote mailboxes through Dovecot's own imapc storage (issue 12,
// docs/mailbox-relay.md).  The decisions are in plugin/core/mailbox/mailbox_relay:
// this file only
//  - wraps the commands that name a mailbox, reads that name, and, when the
//    session relays and the name is remote, adds the hidden imapc namespace
//    of its entry before Dovecot resolves the name (mail_namespace_find()
//    takes the longest prefix, so the entry and everything below it go
//    there).  A namespace is made at the first command that needs it, so an
//    owning server is connected to only when one of its mailboxes is used;
//  - turns a failure to reach the owning server into NO [UNAVAILABLE]
//    (imapc reports a lost or refused connection as an internal error;
//    storage_glue.cpp's open override asks relayOpenResult()).
// The commands and the mailbox argument's position: APPEND reads only its
// first argument (its literal is streamed by cmd_append, which reads the
// same argument again), the others their whole line, as they do themselves.
#include <cstring>

#include "imap_glue.h"
#include "mailbox_relay.h"

namespace dref {
namespace {

constexpr char kNamespaceTag[] = "dref-relay:";

struct RelayCommand {
    const char* name;
    unsigned int mailboxArg;  // position of the mailbox argument
    unsigned int readCount;   // arguments to read first (0 = the whole line)
    command_func_t* original;
};

RelayCommand g_commands[] = {
    {"SELECT", 0, 0, nullptr},   {"EXAMINE", 0, 0, nullptr},  {"STATUS", 0, 0, nullptr},
    {"APPEND", 0, 1, nullptr},   {"CREATE", 0, 0, nullptr},   {"DELETE", 0, 0, nullptr},
    {"COPY", 1, 0, nullptr},     {"MOVE", 1, 0, nullptr},     {"UID COPY", 1, 0, nullptr},
    {"UID MOVE", 1, 0, nullptr},
};

bool hasRelayNamespace(struct mail_user* user, const std::string& prefix) {
    for (struct mail_namespace* ns = user->namespaces; ns != nullptr; ns = ns->next)
        if (isRelayNamespace(ns) && prefix == ns->prefix) return true;
    return false;
}

// Adds the relay namespace for `wireName` when it is a remote name.
void prepareRelay(struct client* client, MailboxReferralSession* session, const char* wireName) {
    string_t* utf8 = t_str_new(64);
    // Not modified UTF-7: Dovecot's own command answers it (BAD / NO).
    if (imap_utf7_to_utf8(wireName, utf8) < 0) return;
    std::string why;
    std::optional<RelayTarget> target = relayTargetFor(*session, str_c(utf8), &why);
    if (!target) {
        if (!why.empty())
            i_warning("mailbox relay: user=%s mailbox=%s cannot be relayed: %s",
                      client->user->username, str_c(utf8), why.c_str());
        return;
    }
    if (hasRelayNamespace(client->user, target->prefix)) return;
    compat::ImapcNamespaceSpec spec;
    spec.name = std::string(kNamespaceTag) + target->entryVname;
    spec.prefix = target->prefix;
    spec.separator = target->separator;
    spec.host = target->host;
    spec.port = target->port;
    spec.user = target->user;
    spec.masterUser = session->settings().mailbox.relayMasterUser;
    spec.password = session->settings().mailbox.relayMasterPassword;
    spec.remotePrefix = target->remoteName;
    std::string error;
    if (!compat::addImapcNamespace(client->user, spec, &error)) {
        // The name stays in the user's own namespace, where the storage
        // override answers it as in a session without the relay.
        i_error("mailbox relay: user=%s mailbox=%s: cannot relay to %s:%u: %s",
                client->user->username, target->entryVname.c_str(), target->host.c_str(),
                static_cast<unsigned int>(target->port), error.c_str());
        return;
    }
    e_debug(client->event, "mailbox relay: %s -> imap://%s:%u/%s as %s", target->entryVname.c_str(),
            target->host.c_str(), static_cast<unsigned int>(target->port),
            target->remoteName.c_str(), target->user.c_str());
}

bool relaying(struct client* client, MailboxReferralSession** session) {
    bool on = false;
    guarded("mailbox relay", [&] {
        *session = sessionForClient(client);
        on = *session != nullptr && relaysRemoteMailboxes(**session);
    });
    return on;
}

bool relayCommand(struct client_command_context* cmd, RelayCommand& rc) {
    MailboxReferralSession* session = nullptr;
    // Sessions that do not relay run the command exactly as without us.
    if (!relaying(cmd->client, &session)) return rc.original(cmd);
    const struct imap_arg* args;
    if (!client_read_args(cmd, rc.readCount, 0, &args)) return FALSE;
    const char* wireName;
    // Too few or wrong arguments: left to the command, which sends its BAD.
    bool named = true;
    for (unsigned int i = 0; i < rc.mailboxArg; ++i)
        if (IMAP_ARG_IS_EOL(&args[i])) named = false;
    if (named && imap_arg_get_astring(&args[rc.mailboxArg], &wireName))
        guarded("mailbox relay", [&] { prepareRelay(cmd->client, session, wireName); });
    return rc.original(cmd);
}

template <size_t I>
bool relayCommandAt(struct client_command_context* cmd) {
    return relayCommand(cmd, g_commands[I]);
}

command_func_t* const g_wrappers[] = {
    relayCommandAt<0>, relayCommandAt<1>, relayCommandAt<2>, relayCommandAt<3>, relayCommandAt<4>,
    relayCommandAt<5>, relayCommandAt<6>, relayCommandAt<7>, relayCommandAt<8>, relayCommandAt<9>,
};
static_assert(sizeof(g_wrappers) / sizeof(g_wrappers[0]) == sizeof(g_commands) / sizeof(g_commands[0]),
              "one wrapper per relayed command");

}  // namespace

bool isRelayNamespace(const struct mail_namespace* ns) {
    return ns != nullptr && ns->set != nullptr && ns->set->name != nullptr &&
           std::strncmp(ns->set->name, kNamespaceTag, sizeof(kNamespaceTag) - 1) == 0;
}

int relayOpenResult(struct mailbox* box, int ret) {
    // imapc sets MAIL_ERROR_TEMP ("Internal error") when the owning server
    // cannot be reached or the connection breaks; for the client that is
    // the owner being unavailable, not a bug of this server.
    if (ret < 0 && isRelayNamespace(box->list->ns) &&
        mailbox_get_last_mail_error(box) == MAIL_ERROR_TEMP)
        mail_storage_set_error(box->storage, MAIL_ERROR_UNAVAILABLE,
                               "The server that holds this mailbox is not available now.");
    return ret;
}

void mailboxRelayInit() {
    for (size_t i = 0; i < sizeof(g_commands) / sizeof(g_commands[0]); ++i) {
        g_commands[i].original = compat::replaceCommandFunc(g_commands[i].name, g_wrappers[i]);
        if (g_commands[i].original == nullptr)
            i_fatal("dovecot-referral: imap command %s not found", g_commands[i].name);
    }
}

void mailboxRelayDeinit() {
    for (size_t i = 0; i < sizeof(g_commands) / sizeof(g_commands[0]); ++i) {
        compat::restoreCommandFunc(g_commands[i].name, g_wrappers[i], g_commands[i].original);
        g_commands[i].original = nullptr;
    }
}

}  // namespace dref
