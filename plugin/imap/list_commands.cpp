// RLIST and RLSUB (RFC 2193 §5), and LIST (REMOTE) (RFC 5258 §3): the remote
// mailboxes that match, printed as untagged LIST / LSUB lines, then Dovecot's
// own LIST / LSUB for the local ones (cmd_list_full, exported by the imap
// binary).  The list override in storage_glue.cpp keeps remote names out of
// the local part, so no name is printed twice.  Arguments are parsed by
// cmd_list_full as for LIST: a bad argument gets LIST's BAD (R2193-27/-28).
// Using RLIST, RLSUB or LIST (REMOTE) opts the session in to referrals (D-8).
#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "imap_glue.h"
#include "list_pattern.h"
#include "mailbox_relay.h"

namespace dref {
namespace {

// Wire name of a vname: modified UTF-7, as an IMAP astring.
void appendName(string_t* line, std::string_view vname) {
    const char* utf8 = t_strndup(vname.data(), vname.size());
    string_t* wire = t_str_new(vname.size() + 16);
    if (imap_utf8_to_utf7(utf8, wire) < 0) {
        // Table names are validated UTF-8; keep the invariant anyway.
        str_truncate(wire, 0);
        str_append(wire, utf8);
    }
    imap_append_astring(line, str_c(wire));
}

void sendLine(struct client* client, bool lsub, const char* flags, char sep,
              std::string_view vname) {
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
void sendRemoteLevels(struct client* client, const MailboxReferralSession& session, const ListPattern& pattern,
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

// What one listing command wants from the remote table.
struct RemoteRequest {
    std::vector<ListPattern> patterns;
    bool subscribedOnly = false;  // RLSUB, LIST (REMOTE SUBSCRIBED)
    bool lsubReply = false;       // untagged LSUB instead of LIST
    const char* attributes = "";  // "\\Remote" for LIST (REMOTE), RFC 5258
};

bool matchesAny(const RemoteRequest& req, const std::string& name) {
    for (const ListPattern& p : req.patterns)
        if (p.matches(name)) return true;
    return false;
}

// The remote names this user subscribed to.  They are kept in the home
// server's subscriptions (the SUBSCRIBE referral records them there), which
// Dovecot allows for names that do not exist locally.
std::vector<std::string> subscribedRemoteNames(struct client* client, const MailboxReferralSession& session) {
    std::vector<std::string> names;
    OverrideBypass bypass;
    const char* patterns[] = {"*", nullptr};
    struct mailbox_list_iterate_context* iter = mailbox_list_iter_init_namespaces(
        client->user->namespaces, patterns,
        static_cast<enum mail_namespace_type>(MAIL_NAMESPACE_TYPE_MASK_ALL),
        static_cast<enum mailbox_list_iter_flags>(MAILBOX_LIST_ITER_SELECT_SUBSCRIBED |
                                                  MAILBOX_LIST_ITER_RETURN_NO_FLAGS));
    const struct mailbox_info* info;
    while ((info = mailbox_list_iter_next(iter)) != nullptr) {
        if ((info->flags & MAILBOX_SUBSCRIBED) != 0 && session.isRemote(info->vname))
            names.emplace_back(info->vname);
    }
    if (mailbox_list_iter_deinit(&iter) < 0)
        i_warning("dovecot-referral: listing subscriptions failed");
    return names;
}

void sendRemote(struct client* client, const MailboxReferralSession& session, const RemoteRequest& req) {
    const char sep = session.table().separator();
    std::set<std::string> sent;
    if (req.subscribedOnly) {
        for (const std::string& name : subscribedRemoteNames(client, session))
            if (matchesAny(req, name) && sent.insert(name).second)
                sendLine(client, req.lsubReply, req.attributes, sep, name);
        return;
    }
    for (const ListPattern& p : req.patterns) {
        session.table().forEachMatch(p, [&](const RemoteMailboxEntry& e) {
            if (sent.emplace(e.vname()).second)
                sendLine(client, req.lsubReply, req.attributes, sep, e.vname());
        });
    }
    std::vector<std::string> names;
    for (const ListPattern& p : req.patterns) {
        if (!p.endsWithPercent()) continue;
        if (names.empty())
            for (const RemoteMailboxEntry& e : session.table().entries()) names.emplace_back(e.vname());
        sendRemoteLevels(client, session, p, names, &sent);
    }
}

// RLIST ref pattern / RLSUB ref pattern (RFC 2193 §5, exactly two astrings).
bool parseRemoteCommand(const struct imap_arg* args, char sep, RemoteRequest* req) {
    const char* ref;
    const char* pattern;
    if (!imap_arg_get_astring(&args[0], &ref) || !imap_arg_get_astring(&args[1], &pattern) ||
        !IMAP_ARG_IS_EOL(&args[2]) || *pattern == '\0')
        return false;
    req->patterns.emplace_back(fromWire(ref), fromWire(pattern), sep);
    return true;
}

// LIST (REMOTE [SUBSCRIBED]) ref pattern-or-patterns [RETURN (...)]
// (RFC 5258 §3: REMOTE "updates" RFC 2193's RLIST).  Other selection options
// next to REMOTE select nothing remote (no special-use, no recursive match).
bool parseListRemote(const struct imap_arg* args, char sep, RemoteRequest* req) {
    const struct imap_arg* options;
    if (!imap_arg_get_list(&args[0], &options)) return false;
    bool remote = false, subscribed = false, other = false;
    for (; !IMAP_ARG_IS_EOL(options); options++) {
        const char* atom;
        if (!imap_arg_get_atom(options, &atom)) return false;
        if (strcasecmp(atom, "REMOTE") == 0)
            remote = true;
        else if (strcasecmp(atom, "SUBSCRIBED") == 0)
            subscribed = true;
        else
            other = true;
    }
    const char* ref;
    if (!remote || other || !imap_arg_get_astring(&args[1], &ref)) return false;
    const struct imap_arg* list;
    const char* pattern;
    if (imap_arg_get_list(&args[2], &list)) {
        for (; !IMAP_ARG_IS_EOL(list); list++) {
            if (!imap_arg_get_astring(list, &pattern)) return false;
            if (*pattern != '\0') req->patterns.emplace_back(fromWire(ref), fromWire(pattern), sep);
        }
    } else if (imap_arg_get_astring(&args[2], &pattern)) {
        if (*pattern != '\0') req->patterns.emplace_back(fromWire(ref), fromWire(pattern), sep);
    } else {
        return false;
    }
    req->subscribedOnly = subscribed;
    req->attributes = subscribed ? "\\Remote \\Subscribed" : "\\Remote";
    return true;
}

enum class Flavour { Rlist, Rlsub, List };

command_func_t* g_list = nullptr;

bool listWithRemote(struct client_command_context* cmd, Flavour flavour) {
    const bool lsub = flavour == Flavour::Rlsub;
    MailboxReferralSession* session = sessionForClient(cmd->client);
    if (session == nullptr) return flavour == Flavour::List ? g_list(cmd) : cmd_list_full(cmd, lsub);
    const struct imap_arg* args;
    if (!client_read_args(cmd, 0, 0, &args)) return FALSE;
    const char sep = session->table().separator();
    RemoteRequest req;
    bool wanted;
    bool relayed = false;
    try {
        if (flavour == Flavour::List) {
            wanted = parseListRemote(args, sep, &req);
            if (!wanted && relaysRemoteMailboxes(*session)) {
                // Issue 12: a relaying session sees its remote mailboxes in
                // plain LIST ref pattern, as local ones (no \Remote).
                req = RemoteRequest();
                wanted = relayed = parseRemoteCommand(args, sep, &req);
            }
        } else {
            wanted = parseRemoteCommand(args, sep, &req);
            req.subscribedOnly = lsub;
            req.lsubReply = lsub;
        }
        if (flavour != Flavour::List || (wanted && !relayed)) session->optIn();  // D-8
        if (wanted && !req.patterns.empty() && session->state() == TableState::Ready)
            sendRemote(cmd->client, *session, req);
    } catch (const std::exception& e) {
        i_error("dovecot-referral: %s: remote part failed: %s", cmd->name, e.what());
    }
    // Local mailboxes, the tagged reply, and LIST's own argument errors.
    return flavour == Flavour::List ? g_list(cmd) : cmd_list_full(cmd, lsub);
}

bool cmdRlist(struct client_command_context* cmd) { return listWithRemote(cmd, Flavour::Rlist); }
bool cmdRlsub(struct client_command_context* cmd) { return listWithRemote(cmd, Flavour::Rlsub); }
bool cmdList(struct client_command_context* cmd) { return listWithRemote(cmd, Flavour::List); }

}  // namespace

void listCommandsInit() {
    command_register("RLIST", cmdRlist, static_cast<enum command_flags>(0));
    command_register("RLSUB", cmdRlsub, static_cast<enum command_flags>(0));
    g_list = compat::replaceCommandFunc("LIST", cmdList);
    if (g_list == nullptr) i_fatal("dovecot-referral: imap command LIST not found");
}

void listCommandsDeinit() {
    compat::restoreCommandFunc("LIST", cmdList, g_list);
    g_list = nullptr;
    command_unregister("RLIST");
    command_unregister("RLSUB");
}

}  // namespace dref
