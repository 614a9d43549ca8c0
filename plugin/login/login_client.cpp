// Per-client overrides (DOVECOT-NOTES §1.2, the vlast/module_context pattern):
//  - v.auth_result rewrites the tagged login referral (RFC 2221 §4.1);
//  - v.sasl_check_login answers a local login that the passdb marked with a
//    bare `host` (no nologin, no proxy) with OK [REFERRAL ...] (R2221-10,
//    docs/ok-referral.md);
//  - drain mode (RFC 2221 §4.2) lives in login_drain.cpp;
//  - the filter of the home server's replies to a proxied login lives in
//    login_proxy_referral.cpp (the 2.4 referral guard) and
//    login_proxy_hint.cpp (policy proxy-suggest).
// Every entry point is noexcept and catches everything: no C++ exception may
// unwind through Dovecot's C frames.
#include "login_client.h"

#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "dovecot_compat.h"
#include "../auth/event_interest.h"
#include "key_value_args.h"
#include "login_client_context.h"
#include "login_reply.h"
#include "response_text.h"

using dref::ReferralLoginClient;

namespace {

MODULE_CONTEXT_DEFINE_INIT(referral_login_client_module, &login_module_register);

// The event category the passdb driver and the imap plugin use too
// (docs/login-referrals.md §4): filter = category=referral.
struct event_category g_referral_category = {nullptr, "referral", nullptr};

const dref::LoginPluginConfig* g_config = nullptr;

ReferralLoginClient* contextOf(struct client* client) { return dref::referralLoginContext(client); }

using dref::commandOf;
using dref::orEmpty;
using dref::replyEvent;
using dref::viewOf;

// One reply per process, its strings reused from login to login (the
// process is single-threaded and nothing here re-enters).
dref::LoginReply& replyBuffer() {
    static dref::LoginReply reply;
    return reply;
}

bool hasNotes(const string_t* notes) { return notes != nullptr && str_len(notes) > 0; }

// Dovecot's message callback of a referred client's event (and of the
// proxy's event below it), chained in front of Dovecot's own.  The first
// line written after the client was disconnected (2.3 "Disconnected: ...",
// 2.4 "Login aborted: ...", or "Login: ..." after a later successful
// login) gets the NO referrals' notes before Dovecot adds
// login_log_format_elements (user, rip, session, ...); the next info line
// after an OK referral (the login's own) gets the OK referrals' notes after
// Dovecot's whole text.  That line is then the connection's one line, as
// with Dovecot's native referrals, instead of a line of ours plus
// Dovecot's (issue 13).
const char* referralLogMessage(void* context, enum log_type type, const char* message) noexcept {
    auto* client = static_cast<struct client*>(context);
    ReferralLoginClient* ctx = contextOf(client);
    if (client->disconnected && hasNotes(ctx->referral_notes)) {
        message = t_strconcat(message, str_c(ctx->referral_notes), nullptr);
        str_truncate(ctx->referral_notes, 0);
    }
    if (ctx->log_message_super.callback != nullptr)
        message = ctx->log_message_super.callback(ctx->log_message_super.context, type, message);
    if (type == LOG_TYPE_INFO && hasNotes(ctx->ok_referral_notes)) {
        message = t_strconcat(message, str_c(ctx->ok_referral_notes), nullptr);
        str_truncate(ctx->ok_referral_notes, 0);
    }
    return message;
}

// Writes the referral (or the clean NO that replaces an unusable one).
// Dovecot's own caller keeps the state handling: after REFERRAL_NOLOGIN it
// runs client_auth_failed(), which clears the SASL state and re-enables
// input, so the client stays Not Authenticated and may log in again
// (R2221-9).
void sendLoginReferral(struct client* client, enum client_auth_result result,
                       const struct client_auth_reply* reply) {
    const dref::compat::ReplyTarget target = dref::compat::replyTarget(reply);
    dref::LoginReferralFacts facts;
    facts.command = commandOf(client);
    facts.mechanism = viewOf(client->auth_mech_name);
    facts.user = target.user;
    if (facts.user.empty()) facts.user = viewOf(client->virtual_user);
    facts.host = target.host;
    facts.port = target.port;
    facts.reason = viewOf(reply->reason);

    dref::LoginReply& out = replyBuffer();
    dref::composeLoginReferral(facts, g_config->reply, &out);
    enum imap_cmd_reply kind = IMAP_CMD_REPLY_NO;
    if (out.referral && result == CLIENT_AUTH_RESULT_REFERRAL_SUCCESS) kind = IMAP_CMD_REPLY_OK;
    if (out.referral)
        dref::noteReferral(client,
                           kind == IMAP_CMD_REPLY_NO ? dref::ReferralKind::No : dref::ReferralKind::Ok,
                           facts.command, facts.user, out);
    else
        e_error(replyEvent(client, "unavailable", facts.command, out), "%s", out.error.c_str());
    client_send_reply_code(client, kind, out.code.c_str(), out.text.c_str());
}

void referralAuthResult(struct client* client, enum client_auth_result result,
                        const struct client_auth_reply* reply, const char* text) noexcept {
    ReferralLoginClient* ctx = contextOf(client);
    if (ctx->ok_referral_sent) {
        // After our tagged OK only the hand-off to the imap process can
        // still fail (mail_max_userip_connections, master or userdb
        // failure); Dovecot then destroys the client.  Say it untagged.
        if (result != CLIENT_AUTH_RESULT_SUCCESS) {
            ctx->ok_referral_sent = false;
            client_send_reply_code(client, IMAP_CMD_REPLY_BYE, "UNAVAILABLE",
                                   text != nullptr && text[0] != '\0' ? text : "Login failed.");
        }
        return;
    }
    const bool referral = result == CLIENT_AUTH_RESULT_REFERRAL_NOLOGIN ||
                          result == CLIENT_AUTH_RESULT_REFERRAL_SUCCESS;
    if (!referral || reply == nullptr || g_config == nullptr) {
        ctx->module_ctx.super.auth_result(client, result, reply, text);
        return;
    }
    try {
        sendLoginReferral(client, result, reply);
    } catch (const std::exception& e) {
        e_error(client->event, "login referral failed: %s", e.what());
        client_send_reply_code(client, IMAP_CMD_REPLY_NO, "UNAVAILABLE", "Internal error.");
    } catch (...) {
        e_error(client->event, "login referral failed: unknown exception");
        client_send_reply_code(client, IMAP_CMD_REPLY_NO, "UNAVAILABLE", "Internal error.");
    }
}

// The imap process writes "<tag> OK [CAPABILITY ...] Logged in" itself
// (imap/main.c client_send_login_reply()), with the tag it finds in
// master_data_prefix ("<0|1><tag>\0", imap-login's imap_client_auth_begin()).
// With the tag replaced by "*" that line becomes the untagged
// "* OK [CAPABILITY ...] Logged in" after our tagged OK [REFERRAL ...]:
// exactly one tagged completion, no CAPABILITY code on it (D-13, R3501-3).
void untagImapLoginReply(struct client* client) {
    const unsigned char flag =
        client->master_data_prefix_len > 0 ? client->master_data_prefix[0] : '0';
    auto* prefix = static_cast<unsigned char*>(i_malloc(3));
    prefix[0] = flag;
    prefix[1] = '*';
    prefix[2] = '\0';
    i_free(client->master_data_prefix);
    client->master_data_prefix = prefix;
    client->master_data_prefix_len = 3;
}

// RFC 2221 §4.1 "OK [REFERRAL ...]": the user is logged in here (public
// mailboxes), the personal ones are elsewhere.  Called by Dovecot after a
// successful authentication and before the connection is handed to the imap
// process, only when the passdb set neither nologin nor proxy.  A passdb
// `host` in that case is Dovecot's own way of asking for an OK referral
// (client_auth_handle_reply()'s REFERRAL_SUCCESS branch, which 2.3.19.1
// never reaches).
void sendOkReferral(struct client* client, ReferralLoginClient* ctx) {
    const dref::PassdbReferralFields fields = dref::passdbReferralFields(client);
    if (fields.host == nullptr) return;
    if (client->auth_anonymous && !login_binary->anonymous_login_acceptable) return;
    dref::LoginReferralFacts facts;
    if (!dref::passdbReferralFacts(client, fields, &facts)) return;
    facts.reason = viewOf(fields.reason);
    dref::LoginReply& out = replyBuffer();
    dref::composeLoginReferral(facts, g_config->reply, &out);
    if (!out.referral) {
        // The login itself succeeded: serve it locally, without the hint.
        e_error(replyEvent(client, "local", facts.command, out),
                "%s; logging in locally without OK referral", out.error.c_str());
        return;
    }
    dref::noteReferral(client, dref::ReferralKind::Ok, facts.command, facts.user, out);
    client_send_reply_code(client, IMAP_CMD_REPLY_OK, out.code.c_str(), out.text.c_str());
    untagImapLoginReply(client);
    ctx->ok_referral_sent = true;
}

bool referralSaslCheckLogin(struct client* client) noexcept {
    ReferralLoginClient* ctx = contextOf(client);
    if (ctx->module_ctx.super.sasl_check_login != nullptr &&
        !ctx->module_ctx.super.sasl_check_login(client))
        return false;
    if (g_config == nullptr) return true;
    try {
        sendOkReferral(client, ctx);
    } catch (const std::exception& e) {
        e_error(client->event, "OK referral failed, logging in locally: %s", e.what());
    } catch (...) {
        e_error(client->event, "OK referral failed, logging in locally: unknown exception");
    }
    return true;
}

void referralClientAllocated(struct client* client) noexcept {
    auto* ctx = p_new(client->pool, ReferralLoginClient, 1);
    struct client_vfuncs* v = client->vlast;
    ctx->module_ctx.super = *v;
    client->vlast = &ctx->module_ctx.super;
    v->auth_result = referralAuthResult;
    v->sasl_check_login = referralSaslCheckLogin;
    dref::installProxyLineFilter(v);
    if (g_config != nullptr && !g_config->drainGreeting.empty()) dref::installDrainOverrides(v);
    MODULE_CONTEXT_SET(client, referral_login_client_module, ctx);
}

struct login_client_hooks g_hooks = {referralClientAllocated};

}  // namespace

namespace dref {

struct event_category* referralEventCategory() { return &g_referral_category; }

LoginCommand commandOf(struct client* client) {
    // The plugin declares imap-login as its only binary, so every client here
    // is a struct imap_client; cmd_name stays valid until the next command.
    const auto* imap = reinterpret_cast<const struct imap_client*>(client);
    if (imap->cmd_name != nullptr && strcasecmp(imap->cmd_name, "AUTHENTICATE") == 0)
        return LoginCommand::Authenticate;
    return LoginCommand::Login;
}

std::string orEmpty(const char* s) { return s == nullptr ? std::string() : std::string(s); }

std::string_view viewOf(const char* s) { return s == nullptr ? std::string_view() : s; }

namespace {

const char* commandName(LoginCommand cmd) {
    return cmd == LoginCommand::Authenticate ? "AUTHENTICATE" : "LOGIN";
}

}  // namespace

struct event* replyEvent(struct client* client, const char* reply, LoginCommand cmd,
                         const LoginReply& out) {
    struct event_passthrough* e = event_create_passthrough(client->event)
                                      ->add_category(&g_referral_category)
                                      ->set_name("referral_login_reply")
                                      ->add_str("reply", reply)
                                      ->add_str("command", commandName(cmd));
    if (out.referral) {
        // url() is the tail of `code`, so it ends where code's C string does.
        const std::string_view url = out.url();
        e->add_str("url", url.data());
    }
    return e->event();
}

namespace {

struct ReferralNoteText {
    const char* reply;  // the event's reply field
    const char* before;
    const char* after;
};

ReferralNoteText noteText(ReferralKind kind) {
    switch (kind) {
        case ReferralKind::Ok: return {"ok", "OK ", ""};
        case ReferralKind::ProxyHint: return {"proxy-ok", "OK ", " (hint on a proxied session)"};
        case ReferralKind::No: break;
    }
    return {"no", "", ""};
}

}  // namespace

void noteReferral(struct client* client, ReferralKind kind, LoginCommand cmd,
                  std::string_view urlUser, const LoginReply& out) {
    ReferralLoginClient* ctx = referralLoginContext(client);
    const ReferralNoteText text = noteText(kind);
    // The note's buffer, reused from login to login (one per process).
    static std::string note;
    note.clear();
    appendReferralNote(&note, text.before, out.url(), text.after, cmd, viewOf(client->virtual_user),
                       urlUser);
    if (ctx->referral_notes == nullptr && ctx->ok_referral_notes == nullptr)
        ctx->log_message_super = compat::chainClientLogMessage(client, referralLogMessage, client);
    string_t** notes = kind == ReferralKind::No ? &ctx->referral_notes : &ctx->ok_referral_notes;
    if (*notes == nullptr) *notes = str_new(client->pool, note.size() + 64);
    str_append_data(*notes, note.data(), note.size());
    // Built only when a log_debug, log_core_filter or metric filter is set
    // (or the client logs debug): whatever such a filter selects on, it
    // then sees the complete event.
    if (!debugEventsWanted(client->event)) return;
    e_debug(replyEvent(client, text.reply, cmd, out), "%slogin referral to %s%s", text.before,
            out.url().data(), text.after);
}

const char* passdbField(struct client* client, const char* key) {
    const char* value = nullptr;
    const KeyValueSlot slot = {key, &value};
    findKeyValueArgs(client->auth_passdb_args, &slot, 1);
    return value;
}

PassdbReferralFields passdbReferralFields(struct client* client) {
    PassdbReferralFields fields;
    // One pass over the fields (issue 13 item 3: was a strlen() and
    // strncmp() scan per name).
    const KeyValueSlot slots[] = {{"host", &fields.host},
                                  {"destuser", &fields.destuser},
                                  {"port", &fields.port},
                                  {"reason", &fields.reason}};
    findKeyValueArgs(client->auth_passdb_args, slots, sizeof slots / sizeof slots[0]);
    return fields;
}

bool passdbReferralFacts(struct client* client, const PassdbReferralFields& fields,
                         LoginReferralFacts* facts) {
    if (fields.host == nullptr) return false;
    facts->command = commandOf(client);
    facts->mechanism = viewOf(client->auth_mech_name);
    facts->user = viewOf(fields.destuser);
    if (facts->user.empty()) facts->user = viewOf(client->virtual_user);
    facts->host = fields.host;
    unsigned int portNumber = 143;
    if (fields.port != nullptr && (str_to_uint(fields.port, &portNumber) < 0 ||
                                   portNumber == 0 || portNumber > 65535)) {
        e_error(client->event, "no OK referral: invalid passdb port \"%s\"",
                quoteForLog(fields.port).c_str());
        return false;
    }
    facts->port = static_cast<uint16_t>(portNumber);
    return true;
}

ReferralLoginClient* referralLoginContext(struct client* client) {
    void* ctx = MODULE_CONTEXT(client, referral_login_client_module);
    i_assert(ctx != nullptr);
    return static_cast<ReferralLoginClient*>(ctx);
}

const LoginPluginConfig* referralLoginConfig() { return g_config; }

void loginClientHooksAdd(struct module* module, const LoginPluginConfig* config) {
    g_config = config;
    login_client_hooks_add(module, &g_hooks);
}

void loginClientHooksRemove() {
    login_client_hooks_remove(&g_hooks);
    g_config = nullptr;
}

}  // namespace dref
