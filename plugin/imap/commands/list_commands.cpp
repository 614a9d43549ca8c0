// RLIST and RLSUB (RFC 2193 §5), LIST (REMOTE) (RFC 5258 §3), and LIST /
// LSUB / LIST-EXTENDED in a relaying session (issue 12): the remote
// mailboxes that match (the directory's entries and, with relay
// credentials, what their owners list below them), printed as untagged
// LIST / LSUB lines, then Dovecot's own LIST / LSUB for the local ones
// (cmd_list_full, exported by the imap binary).  What is printed is decided
// in plugin/core (remote_listing.h).  The list override in storage_glue.cpp
// keeps remote names out of the local part, so no name is printed twice,
// and marks local parents of remote names \HasChildren.  Arguments are
// parsed again by Dovecot's LIST: a bad argument gets LIST's BAD
// (R2193-27/-28), and nothing remote is printed before it.  Using RLIST,
// RLSUB or LIST (REMOTE) opts the session in to referrals (D-8).
#include <chrono>
#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "imap_glue.h"
#include "list_pattern.h"
#include "mailbox_relay.h"
#include "remote_listing.h"
#include "response_text.h"

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
              std::string_view vname, bool childSubscribed) {
    string_t* line = t_str_new(128);
    str_printfa(line, "* %s (%s) \"", lsub ? "LSUB" : "LIST", flags);
    if (sep == '"' || sep == '\\') str_append_c(line, '\\');
    str_append_c(line, sep);
    str_append(line, "\" ");
    appendName(line, vname);
    // RFC 5258 §3.5, as Dovecot writes it for local parents.
    if (childSubscribed) str_append(line, " (CHILDINFO (\"SUBSCRIBED\"))");
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

// Takes the relay namespaces out of the user's namespace list for its
// lifetime and puts every namespace back in its order.  With a relay
// namespace present, Dovecot attributes the subscriptions below it to that
// namespace, which has none (storage_glue.cpp: listSubscriptionsRefresh), so
// they would not be seen.  Used only around a synchronous iteration.
class RelayNamespacesDetached {
public:
    explicit RelayNamespacesDetached(struct mail_user* user) : user_(user) {
        for (struct mail_namespace* ns = user->namespaces; ns != nullptr; ns = ns->next)
            all_.push_back(ns);
        relink(false);
    }
    ~RelayNamespacesDetached() { relink(true); }
    RelayNamespacesDetached(const RelayNamespacesDetached&) = delete;
    RelayNamespacesDetached& operator=(const RelayNamespacesDetached&) = delete;

private:
    void relink(bool withRelay) {
        struct mail_namespace** tail = &user_->namespaces;
        for (struct mail_namespace* ns : all_) {
            if (!withRelay && isRelayNamespace(ns)) continue;
            *tail = ns;
            tail = &ns->next;
        }
        *tail = nullptr;
    }
    struct mail_user* user_;
    std::vector<struct mail_namespace*> all_;
};

// The remote names this user subscribed to.  They are kept in the home
// server's subscriptions (the SUBSCRIBE referral records them there), which
// Dovecot allows for names that do not exist locally.
std::set<std::string, std::less<>> subscribedRemoteNames(struct client* client,
                                                         const MailboxReferralSession& session) {
    std::set<std::string, std::less<>> names;
    OverrideBypass bypass;
    RelayNamespacesDetached detached(client->user);
    const char* patterns[] = {"*", nullptr};
    struct mailbox_list_iterate_context* iter = mailbox_list_iter_init_namespaces(
        client->user->namespaces, patterns,
        static_cast<enum mail_namespace_type>(MAIL_NAMESPACE_TYPE_MASK_ALL),
        static_cast<enum mailbox_list_iter_flags>(MAILBOX_LIST_ITER_SELECT_SUBSCRIBED |
                                                  MAILBOX_LIST_ITER_RETURN_NO_FLAGS));
    const struct mailbox_info* info;
    while ((info = mailbox_list_iter_next(iter)) != nullptr) {
        if ((info->flags & MAILBOX_SUBSCRIBED) != 0 && session.isRemote(info->vname))
            names.emplace(info->vname);
    }
    if (mailbox_list_iter_deinit(&iter) < 0)
        i_warning("dovecot-referral: listing subscriptions failed");
    return names;
}

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool hasRelayNamespace(struct mail_user* user, const std::string& prefix) {
    for (struct mail_namespace* ns = user->namespaces; ns != nullptr; ns = ns->next)
        if (isRelayNamespace(ns) && prefix == ns->prefix) return true;
    return false;
}

// Asks the owners whose answers are due (issue 12 item 4) and fills
// input->owners with every fresh answer.  A failing owner is logged once
// per negative_cache_ttl and listed as the directory holds it.  Within
// mailbox_relay_max_mailboxes only (listingMayAddRelayNamespaces()).
void askOwners(struct client* client, MailboxReferralSession* session,
               const RemoteListRequest& req, RemoteListInput* input) {
    OwnerListingCache& cache = session->ownerListings();
    const bool mayConnect =
        listingMayAddRelayNamespaces(session->table(), session->settings().mailbox.relayConnection);
    for (const RemoteMailboxEntry& entry : entriesToAsk(req, session->table())) {
        const std::string prefix = std::string(entry.vname()) + session->table().separator();
        if (cache.due(entry.vname(), nowMs()) &&
            (mayConnect || hasRelayNamespace(client->user, prefix))) {
            std::vector<OwnerMailbox> raw;
            std::string error;
            if (listOwnerInferiors(client, session, entry, &raw, &error)) {
                std::vector<std::string> warnings;
                cache.storeAnswer(entry.vname(),
                                  validateOwnerListing(session->table(), entry, std::move(raw),
                                                       kMaxOwnerNamesPerEntry, &warnings),
                                  nowMs());
                for (const std::string& w : warnings)
                    i_warning("mailbox relay: user=%s: %s",
                              quoteForLog(client->user->username).c_str(), w.c_str());
            } else {
                cache.storeFailure(entry.vname(), nowMs());
                i_warning("mailbox relay: user=%s: cannot list the mailboxes below %s on its "
                          "server (%s); listing the directory's entry only",
                          quoteForLog(client->user->username).c_str(),
                          quoteForLog(entry.vname(), 200).c_str(),
                          quoteForLog(error, 300).c_str());
            }
        }
        input->owners[std::string(entry.vname())] = cache.names(entry.vname(), nowMs());
    }
    // Answers kept from earlier listings still give children attributes.
    for (const RemoteMailboxEntry& entry : session->table().entries())
        if (input->owners.count(entry.vname()) == 0)
            if (const auto* names = cache.names(entry.vname(), nowMs()))
                input->owners[std::string(entry.vname())] = names;
}

void sendRemote(struct client_command_context* cmd, MailboxReferralSession* session,
                const RemoteListRequest& req) {
    struct client* client = cmd->client;
    RemoteListInput input;
    input.table = &session->table();
    if (req.askOwners) askOwners(client, session, req, &input);
    input.subscribed = subscribedRemoteNames(client, *session);
    input.existsLocally = [client](const std::string& vname) {
        return existsLocally(client->user, vname);
    };
    const char sep = session->table().separator();
    for (const RemoteListLine& line : buildRemoteListing(req, input))
        sendLine(client, req.lsub, line.attributes.c_str(), sep, line.vname,
                 line.childSubscribed);
}

std::vector<ListPattern> patternsOf(const char* ref, const std::vector<const char*>& patterns,
                                    char sep) {
    std::vector<ListPattern> out;
    for (const char* p : patterns)
        if (*p != '\0') out.emplace_back(fromWire(ref), fromWire(p), sep);
    return out;
}

// RLIST ref pattern / RLSUB ref pattern (RFC 2193 §5, exactly two astrings).
bool parseRemoteCommand(const struct imap_arg* args, char sep, std::vector<ListPattern>* patterns) {
    const char* ref;
    const char* pattern;
    if (!imap_arg_get_astring(&args[0], &ref) || !imap_arg_get_astring(&args[1], &pattern) ||
        !IMAP_ARG_IS_EOL(&args[2]) || *pattern == '\0')
        return false;
    *patterns = patternsOf(ref, {pattern}, sep);
    return true;
}

// The atoms of an option list; STATUS takes a list of items, skipped.
bool optionAtoms(const struct imap_arg* list, bool returns, std::vector<std::string>* atoms) {
    for (; !IMAP_ARG_IS_EOL(list); list++) {
        const char* atom;
        if (!imap_arg_get_atom(list, &atom)) return false;
        atoms->emplace_back(atom);
        const struct imap_arg* items;
        if (returns && strcasecmp(atom, "STATUS") == 0) {
            if (!imap_arg_get_list(&list[1], &items)) return false;
            list++;
        }
    }
    return true;
}

// [(selection options)] ref pattern-or-(patterns) [RETURN (return options)]
// (RFC 5258 §6), as Dovecot's LIST reads it.  False for anything Dovecot
// would answer with BAD: nothing remote is printed before that BAD.
bool parseList(const struct imap_arg* args, char sep, ListOptions* options,
               std::vector<ListPattern>* patterns) {
    std::vector<std::string> selection, returns;
    const struct imap_arg* list;
    if (imap_arg_get_list(&args[0], &list)) {
        options->extended = true;
        if (!optionAtoms(list, false, &selection)) return false;
        args++;
    }
    const char* ref;
    if (!imap_arg_get_astring(&args[0], &ref)) return false;
    std::vector<const char*> raw;
    const char* pattern;
    if (imap_arg_get_list(&args[1], &list)) {
        options->extended = true;
        for (; !IMAP_ARG_IS_EOL(list); list++) {
            if (!imap_arg_get_astring(list, &pattern)) return false;
            raw.push_back(pattern);
        }
    } else if (imap_arg_get_astring(&args[1], &pattern)) {
        raw.push_back(pattern);
    } else {
        return false;
    }
    args += 2;
    if (imap_arg_atom_equals(&args[0], "RETURN") && imap_arg_get_list(&args[1], &list)) {
        options->extended = true;
        if (!optionAtoms(list, true, &returns)) return false;
        args += 2;
    }
    if (!IMAP_ARG_IS_EOL(args)) return false;
    if (!parseListOptions(selection, returns, options)) return false;
    *patterns = patternsOf(ref, raw, sep);
    return true;
}

enum class Command { Rlist, Rlsub, List, Lsub };

command_func_t* g_list = nullptr;
command_func_t* g_lsub = nullptr;

bool dovecotListing(struct client_command_context* cmd, Command command) {
    switch (command) {
        case Command::List: return g_list(cmd);
        case Command::Lsub: return g_lsub(cmd);
        case Command::Rlist: return cmd_list_full(cmd, false);
        case Command::Rlsub: return cmd_list_full(cmd, true);
    }
    return cmd_list_full(cmd, false);
}

// Which remote listing a command asks for, if any.  A relaying session's
// LIST and LSUB show remote names like local ones (issue 12); RLIST, RLSUB
// and LIST (REMOTE) show them as remote and opt the session in (D-8).
bool remoteRequest(MailboxReferralSession* session, Command command, const struct imap_arg* args,
                   RemoteListRequest* req) {
    const char sep = session->table().separator();
    const bool relaying = relaysRemoteMailboxes(*session);
    const bool owners = session->asksOwners();
    std::vector<ListPattern> patterns;
    ListOptions options;
    switch (command) {
        case Command::Rlist:
        case Command::Rlsub:
            session->optIn();  // D-8, also when the arguments are bad
            if (!parseRemoteCommand(args, sep, &patterns)) return false;
            *req = makeListRequest(command == Command::Rlist ? ListFlavour::Rlist : ListFlavour::Rlsub,
                                   options, owners);
            break;
        case Command::List:
            if (!parseList(args, sep, &options, &patterns)) return false;
            if (options.selectRemote) {
                session->optIn();  // D-8
                *req = makeListRequest(ListFlavour::ListRemote, options, owners);
            } else if (relaying) {
                *req = makeListRequest(ListFlavour::Relayed, options, owners);
            } else {
                return false;
            }
            break;
        case Command::Lsub:
            if (!relaying || !parseRemoteCommand(args, sep, &patterns)) return false;
            *req = makeListRequest(ListFlavour::RelayedLsub, options, owners);
            break;
    }
    req->patterns = std::move(patterns);
    return !req->patterns.empty();
}

bool listWithRemote(struct client_command_context* cmd, Command command) {
    MailboxReferralSession* session = sessionForClient(cmd->client);
    if (session == nullptr) return dovecotListing(cmd, command);
    const struct imap_arg* args;
    if (!client_read_args(cmd, 0, 0, &args)) return FALSE;
    bool shown = false;
    try {
        RemoteListRequest req;
        if (remoteRequest(session, command, args, &req) && session->state() == TableState::Ready) {
            sendRemote(cmd, session, req);
            shown = true;
        }
    } catch (const std::exception& e) {
        i_error("dovecot-referral: %s: remote part failed: %s", cmd->name, e.what());
    } catch (...) {
        // A command function is a Dovecot frame: nothing may unwind into it
        // (listOwnerInferiors() rethrows whatever ended the owner's listing).
        i_error("dovecot-referral: %s: remote part failed: unknown exception", cmd->name);
    }
    markRemoteListing(cmd, shown);
    // Local mailboxes, the tagged reply, and LIST's own argument errors.
    return dovecotListing(cmd, command);
}

bool cmdRlist(struct client_command_context* cmd) { return listWithRemote(cmd, Command::Rlist); }
bool cmdRlsub(struct client_command_context* cmd) { return listWithRemote(cmd, Command::Rlsub); }
bool cmdList(struct client_command_context* cmd) { return listWithRemote(cmd, Command::List); }
bool cmdLsub(struct client_command_context* cmd) { return listWithRemote(cmd, Command::Lsub); }

}  // namespace

void listCommandsInit() {
    command_register("RLIST", cmdRlist, static_cast<enum command_flags>(0));
    command_register("RLSUB", cmdRlsub, static_cast<enum command_flags>(0));
    g_list = compat::replaceCommandFunc("LIST", cmdList);
    if (g_list == nullptr) i_fatal("dovecot-referral: imap command LIST not found");
    g_lsub = compat::replaceCommandFunc("LSUB", cmdLsub);
    if (g_lsub == nullptr) i_fatal("dovecot-referral: imap command LSUB not found");
}

void listCommandsDeinit() {
    compat::restoreCommandFunc("LIST", cmdList, g_list);
    g_list = nullptr;
    compat::restoreCommandFunc("LSUB", cmdLsub, g_lsub);
    g_lsub = nullptr;
    command_unregister("RLIST");
    command_unregister("RLSUB");
}

}  // namespace dref
