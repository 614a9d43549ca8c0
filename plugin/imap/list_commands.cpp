// RLIST and RLSUB (RFC 2193 §5): the remote mailboxes that match, printed as
// untagged LIST / LSUB lines, then Dovecot's own LIST / LSUB for the local
// ones (cmd_list_full, exported by the imap binary).  The list override in
// storage_glue.cpp keeps remote names out of the local part, so no name is
// printed twice.  Arguments are parsed by cmd_list_full as for LIST: a bad
// argument gets LIST's BAD (R2193-27/-28).  Using RLIST or RLSUB opts the
// session in to referrals (D-8).
#include <exception>
#include <set>
#include <string>
#include <vector>

#include "imap_glue.h"
#include "list_pattern.h"

namespace dref {
namespace {

// Wire name of a vname: modified UTF-7, as an IMAP astring.
void appendName(string_t* line, const std::string& vname) {
    string_t* wire = t_str_new(vname.size() + 16);
    if (imap_utf8_to_utf7(vname.c_str(), wire) < 0) {
        // Table names are validated UTF-8; keep the invariant anyway.
        str_truncate(wire, 0);
        str_append(wire, vname.c_str());
    }
    imap_append_astring(line, str_c(wire));
}

void sendLine(struct client* client, bool lsub, const char* flags, char sep,
              const std::string& vname) {
    string_t* line = t_str_new(128);
    str_printfa(line, "* %s (%s) \"", lsub ? "LSUB" : "LIST", flags);
    if (sep == '"' || sep == '\\') str_append_c(line, '\\');
    str_append_c(line, sep);
    str_append(line, "\" ");
    appendName(line, vname);
    client_send_line(client, str_c(line));
}

std::string fromWire(const char* wire) {
    string_t* utf8 = t_str_new(64);
    // As LIST does: a name that is not valid modified UTF-7 is used as sent.
    return imap_utf7_to_utf8(wire, utf8) == 0 ? std::string(str_c(utf8)) : std::string(wire);
}

bool existsLocally(struct mail_user* user, const std::string& vname) {
    const char* patterns[] = {vname.c_str(), nullptr};
    struct mailbox_list_iterate_context* iter = mailbox_list_iter_init_namespaces(
        user->namespaces, patterns, static_cast<enum mail_namespace_type>(MAIL_NAMESPACE_TYPE_MASK_ALL),
        MAILBOX_LIST_ITER_RETURN_NO_FLAGS);
    bool found = mailbox_list_iter_next(iter) != nullptr;
    (void)mailbox_list_iter_deinit(&iter);
    return found;
}

// RFC 3501 §6.3.8: with "%" last, the hierarchy levels leading to matching
// names are listed too, \Noselect when they are no mailbox.
void sendRemoteLevels(struct client* client, const ImapSession& session, const ListPattern& pattern,
                      const std::vector<std::string>& names, std::set<std::string>* sent) {
    const char sep = session.table().separator();
    for (const std::string& name : names) {
        for (size_t pos = name.find(sep); pos != std::string::npos; pos = name.find(sep, pos + 1)) {
            std::string level = name.substr(0, pos);
            if (sent->count(level) != 0 || !pattern.matches(level) || session.isRemote(level))
                continue;
            sent->insert(level);
            if (!existsLocally(client->user, level)) sendLine(client, false, "\\Noselect", sep, level);
        }
    }
}

void sendRemoteList(struct client* client, const ImapSession& session, const ListPattern& pattern) {
    std::set<std::string> sent;
    std::vector<std::string> names;
    const char sep = session.table().separator();
    session.table().forEachMatch(pattern, [&](const RemoteMailboxEntry& e) {
        sendLine(client, false, "", sep, e.vname);
        sent.insert(e.vname);
    });
    if (!pattern.endsWithPercent()) return;
    for (const RemoteMailboxEntry& e : session.table().entries()) names.push_back(e.vname);
    sendRemoteLevels(client, session, pattern, names, &sent);
}

// RLSUB: the remote names this user subscribed to.  They are kept in the
// home server's subscriptions (the SUBSCRIBE referral records them there),
// which Dovecot allows for names that do not exist locally.
void sendRemoteLsub(struct client* client, const ImapSession& session, const ListPattern& pattern) {
    std::vector<std::string> subscribed;
    {
        OverrideBypass bypass;
        const char* patterns[] = {"*", nullptr};
        struct mailbox_list_iterate_context* iter = mailbox_list_iter_init_namespaces(
            client->user->namespaces, patterns, static_cast<enum mail_namespace_type>(MAIL_NAMESPACE_TYPE_MASK_ALL),
            static_cast<enum mailbox_list_iter_flags>(MAILBOX_LIST_ITER_SELECT_SUBSCRIBED |
                                                      MAILBOX_LIST_ITER_RETURN_NO_FLAGS));
        const struct mailbox_info* info;
        while ((info = mailbox_list_iter_next(iter)) != nullptr) {
            if ((info->flags & MAILBOX_SUBSCRIBED) != 0 && session.isRemote(info->vname))
                subscribed.emplace_back(info->vname);
        }
        if (mailbox_list_iter_deinit(&iter) < 0)
            i_warning("dovecot-referral: RLSUB: listing subscriptions failed");
    }
    const char sep = session.table().separator();
    for (const std::string& name : subscribed)
        if (pattern.matches(name)) sendLine(client, true, "", sep, name);
}

bool remoteListFull(struct client_command_context* cmd, bool lsub) {
    ImapSession* session = sessionForClient(cmd->client);
    if (session == nullptr) return cmd_list_full(cmd, lsub);
    const struct imap_arg* args;
    if (!client_read_args(cmd, 0, 0, &args)) return FALSE;
    session->optIn();
    const char* ref;
    const char* pattern;
    if (session->state() == TableState::Ready && imap_arg_get_astring(&args[0], &ref) &&
        imap_arg_get_astring(&args[1], &pattern) && IMAP_ARG_IS_EOL(&args[2]) &&
        *pattern != '\0') {
        try {
            ListPattern p(fromWire(ref), fromWire(pattern), session->table().separator());
            if (lsub)
                sendRemoteLsub(cmd->client, *session, p);
            else
                sendRemoteList(cmd->client, *session, p);
        } catch (const std::exception& e) {
            i_error("dovecot-referral: %s: remote part failed: %s", lsub ? "RLSUB" : "RLIST",
                    e.what());
        }
    }
    // Local mailboxes, the tagged reply, and LIST's argument errors.
    return cmd_list_full(cmd, lsub);
}

bool cmdRlist(struct client_command_context* cmd) { return remoteListFull(cmd, false); }
bool cmdRlsub(struct client_command_context* cmd) { return remoteListFull(cmd, true); }

}  // namespace

void listCommandsInit() {
    command_register("RLIST", cmdRlist, static_cast<enum command_flags>(0));
    command_register("RLSUB", cmdRlsub, static_cast<enum command_flags>(0));
}

void listCommandsDeinit() {
    command_unregister("RLIST");
    command_unregister("RLSUB");
}

}  // namespace dref
