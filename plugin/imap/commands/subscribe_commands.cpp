// SUBSCRIBE and UNSUBSCRIBE of a remote name (R2193-19).  Dovecot's
// mailbox_set_subscribed() skips the storage when the state would not
// change, so these two are wrapped at command level: for a remote name the
// subscription is recorded in the home server's subscriptions (where RLSUB
// reads it, R2193-14; Dovecot accepts names that do not exist locally) and
// the client gets NO [REFERRAL ...] to do the same on the owning server.
// In a session that relays remote mailboxes (issue 12) the same record is
// the whole answer: OK, and nothing is sent to the owner; LSUB on the home
// server is where the client looks for it.  Everything else goes to
// Dovecot's own command, which re-reads the same arguments.
#include <exception>

#include "imap_glue.h"
#include "mailbox_relay.h"
#include "response_text.h"

namespace dref {
namespace {

command_func_t* g_subscribe = nullptr;
command_func_t* g_unsubscribe = nullptr;

// Octets of a client's mailbox name repeated in a tagged reply.
constexpr size_t kMaxNameInReply = 200;

// False only when the name surely does not exist (an error: let Dovecot's
// command answer it).
bool mailboxExists(struct mail_namespace* ns, const char* vname) {
    struct mailbox* box = mailbox_alloc(ns->list, vname, static_cast<enum mailbox_flags>(0));
    enum mailbox_existence existence = MAILBOX_EXISTENCE_SELECT;
    const bool none = mailbox_exists(box, TRUE, &existence) == 0 &&
                      existence == MAILBOX_EXISTENCE_NONE;
    mailbox_free(&box);
    return !none;
}

bool subscribeRemote(struct client_command_context* cmd, bool subscribe) {
    command_func_t* original = subscribe ? g_subscribe : g_unsubscribe;
    MailboxReferralSession* session = sessionForClient(cmd->client);
    if (session == nullptr) return original(cmd);
    const char* mailbox;
    if (!client_read_string_args(cmd, 1, &mailbox)) return FALSE;
    const char* vname = mailbox;
    const char* clientError;
    struct mail_namespace* ns = client_find_namespace_full(cmd->client, &vname, &clientError);
    if (ns == nullptr) return original(cmd);  // it sends the same error

    MailboxVerdict verdict;
    bool atHomeOnly = false;
    try {
        atHomeOnly = relaySubscribesAtHome(*session, vname);
        if (!atHomeOnly)
            verdict = session->decide(vname, subscribe ? MailboxCommand::Subscribe
                                                       : MailboxCommand::Unsubscribe);
    } catch (const std::exception& e) {
        i_error("dovecot-referral: %s decision failed: %s", cmd->name, e.what());
        client_send_tagline(cmd, "NO [SERVERBUG] Internal error.");
        return TRUE;
    } catch (...) {
        // A command function is a Dovecot frame: nothing may unwind into it.
        i_error("dovecot-referral: %s decision failed: unknown exception", cmd->name);
        client_send_tagline(cmd, "NO [SERVERBUG] Internal error.");
        return TRUE;
    }
    if (!atHomeOnly && verdict.kind != MailboxVerdict::Kind::Refer) {
        // Dovecot's SUBSCRIBE repeats the name as it is in "Mailbox doesn't
        // exist: <name>" (cmd-subscribe.c: subscribe_is_valid_name(),
        // 2.3.19.1 and 2.4.1); a CR LF decoded from modified UTF-7 would end
        // that line early (lab test mailbox_relay_owner).
        if (subscribe && containsControlOctet(vname) && !mailboxExists(ns, vname)) {
            client_send_tagline(cmd, t_strconcat("NO ", T_MAIL_ERR_MAILBOX_NOT_FOUND(str_sanitize(
                                                            vname, kMaxNameInReply)),
                                                 nullptr));
            return TRUE;
        }
        return original(cmd);
    }

    // The user's own subscriptions: the namespace that keeps subscriptions
    // for this name, never a relay namespace (subscriptions = no), which
    // would send the SUBSCRIBE to the owner.
    bool stored = false;
    if (struct mail_namespace* home = mail_namespace_find_subscribable(cmd->client->user->namespaces,
                                                                       vname)) {
        OverrideBypass bypass;
        struct mailbox* box = mailbox_alloc(home->list, vname, static_cast<enum mailbox_flags>(0));
        if (mailbox_set_subscribed(box, subscribe) < 0) {
            enum mail_error error;
            i_warning("dovecot-referral: %s %s: home subscription not updated: %s", cmd->name,
                      quoteForLog(vname, 200).c_str(),
                      quoteForLog(mailbox_get_last_error(box, &error), 300).c_str());
        } else {
            stored = true;
        }
        mailbox_free(&box);
    }
    if (atHomeOnly) {
        client_send_tagline(cmd, !stored ? "NO [SERVERBUG] Subscription not updated."
                                 : subscribe ? "OK Subscribe completed."
                                             : "OK Unsubscribe completed.");
        return TRUE;
    }
    logReferral(cmd->client->user, cmd->name, vname, verdict);
    client_send_tagline(cmd, t_strconcat("NO ", verdict.error.c_str(), nullptr));
    return TRUE;
}

bool cmdSubscribe(struct client_command_context* cmd) { return subscribeRemote(cmd, true); }
bool cmdUnsubscribe(struct client_command_context* cmd) { return subscribeRemote(cmd, false); }

void wrap(const char* name, command_func_t* wrapper, command_func_t** original) {
    *original = compat::replaceCommandFunc(name, wrapper);
    if (*original == nullptr) i_fatal("dovecot-referral: imap command %s not found", name);
}

void unwrap(const char* name, command_func_t* wrapper, command_func_t** original) {
    compat::restoreCommandFunc(name, wrapper, *original);
    *original = nullptr;
}

}  // namespace

void subscribeCommandsInit() {
    wrap("SUBSCRIBE", cmdSubscribe, &g_subscribe);
    wrap("UNSUBSCRIBE", cmdUnsubscribe, &g_unsubscribe);
}

void subscribeCommandsDeinit() {
    unwrap("SUBSCRIBE", cmdSubscribe, &g_subscribe);
    unwrap("UNSUBSCRIBE", cmdUnsubscribe, &g_unsubscribe);
}

}  // namespace dref
