// Per-client overrides (DOVECOT-NOTES §1.2, the vlast/module_context pattern):
//  - v.auth_result rewrites the tagged login referral (RFC 2221 §4.1);
//  - v.create / v.notify_auth_ready answer every connection with the drain
//    greeting (RFC 2221 §4.2) when drain_host is set.
// Every entry point is noexcept and catches everything: no C++ exception may
// unwind through Dovecot's C frames.
#include "login_client.h"

#include <cstring>
#include <exception>
#include <string>

extern "C" {
#include "lib.h"
#include "ioloop.h"
#include "ostream.h"
#include "module-context.h"
#include "login-common.h"
#include "client-common.h"
#include "imap-login-client.h"
}

#include "login_reply.h"

namespace {

// Pool-allocated (zeroed) by Dovecot: plain data only.
struct ReferralLoginClient {
    union login_client_module_context module_ctx;
    struct timeout* to_drain;
    unsigned int drain_flush_tries;
    bool draining;
};

MODULE_CONTEXT_DEFINE_INIT(referral_login_client_module, &login_module_register);

const dref::LoginPluginConfig* g_config = nullptr;

// How long a drained connection may wait for the greeting to leave the
// output buffer (TLS handshake on an imaps listener) before it is closed.
constexpr unsigned int kDrainFlushIntervalMs = 100;
constexpr unsigned int kDrainFlushMaxTries = 50;

ReferralLoginClient* contextOf(struct client* client) {
    void* ctx = MODULE_CONTEXT(client, referral_login_client_module);
    i_assert(ctx != nullptr);
    return static_cast<ReferralLoginClient*>(ctx);
}

dref::LoginCommand commandOf(struct client* client) {
    // The plugin declares imap-login as its only binary, so every client here
    // is a struct imap_client; cmd_name stays valid until the next command.
    const auto* imap = reinterpret_cast<const struct imap_client*>(client);
    if (imap->cmd_name != nullptr && strcasecmp(imap->cmd_name, "AUTHENTICATE") == 0)
        return dref::LoginCommand::Authenticate;
    return dref::LoginCommand::Login;
}

std::string orEmpty(const char* s) { return s == nullptr ? std::string() : std::string(s); }

// Writes the referral (or the clean NO that replaces an unusable one).
// Dovecot's own caller keeps the state handling: after REFERRAL_NOLOGIN it
// runs client_auth_failed(), which clears the SASL state and re-enables
// input, so the client stays Not Authenticated and may log in again
// (R2221-9).
void sendLoginReferral(struct client* client, enum client_auth_result result,
                       const struct client_auth_reply* reply) {
    dref::LoginReferralFacts facts;
    facts.command = commandOf(client);
    facts.mechanism = orEmpty(client->auth_mech_name);
    facts.user = orEmpty(reply->destuser);
    if (facts.user.empty()) facts.user = orEmpty(client->virtual_user);
    facts.host = orEmpty(reply->host);
    facts.port = reply->port;
    facts.reason = orEmpty(reply->reason);

    dref::LoginReply out = dref::composeLoginReferral(facts, g_config->settings.login);
    enum imap_cmd_reply kind = IMAP_CMD_REPLY_NO;
    if (out.referral && result == CLIENT_AUTH_RESULT_REFERRAL_SUCCESS) kind = IMAP_CMD_REPLY_OK;
    if (out.referral)
        e_info(client->event, "%s", out.log.c_str());
    else
        e_error(client->event, "%s", out.log.c_str());
    client_send_reply_code(client, kind, out.code.c_str(), out.text.c_str());
}

void referralAuthResult(struct client* client, enum client_auth_result result,
                        const struct client_auth_reply* reply, const char* text) noexcept {
    ReferralLoginClient* ctx = contextOf(client);
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

void drainClose(struct client* client) noexcept {
    ReferralLoginClient* ctx = contextOf(client);
    timeout_remove(&ctx->to_drain);
    (void)o_stream_flush(client->output);
    if (o_stream_get_buffer_used_size(client->output) > 0 &&
        ++ctx->drain_flush_tries < kDrainFlushMaxTries) {
        ctx->to_drain = timeout_add_short(kDrainFlushIntervalMs, drainClose, client);
        return;
    }
    client_destroy(client, t_strdup_printf("Drain mode: referred to %s",
                                           g_config->settings.login.drainHost.c_str()));
}

// RFC 2221 §4.2 / RFC 3501 greeting = "*" SP resp-cond-bye: the server does
// not accept the connection.  Sent from v.create so that it does not wait
// for the auth process; no command is ever read (the input io is removed),
// and the client is destroyed from a fresh ioloop callback because
// client_init() still uses it after v.create returns.
void referralCreate(struct client* client, void** other_sets) noexcept {
    ReferralLoginClient* ctx = contextOf(client);
    ctx->module_ctx.super.create(client, other_sets);
    ctx->draining = true;
    client_send_raw(client, g_config->drainGreeting.c_str());
    io_remove(&client->io);
    ctx->to_drain = timeout_add_short(0, drainClose, client);
}

void referralNotifyAuthReady(struct client* client) noexcept {
    ReferralLoginClient* ctx = contextOf(client);
    if (ctx->draining) return;  // the BYE greeting replaces the OK greeting
    ctx->module_ctx.super.notify_auth_ready(client);
}

void referralDestroy(struct client* client) noexcept {
    ReferralLoginClient* ctx = contextOf(client);
    timeout_remove(&ctx->to_drain);
    if (ctx->module_ctx.super.destroy != nullptr) ctx->module_ctx.super.destroy(client);
}

void referralClientAllocated(struct client* client) noexcept {
    auto* ctx = p_new(client->pool, ReferralLoginClient, 1);
    struct client_vfuncs* v = client->vlast;
    ctx->module_ctx.super = *v;
    client->vlast = &ctx->module_ctx.super;
    v->auth_result = referralAuthResult;
    if (g_config != nullptr && !g_config->drainGreeting.empty()) {
        v->create = referralCreate;
        v->notify_auth_ready = referralNotifyAuthReady;
        v->destroy = referralDestroy;
    }
    MODULE_CONTEXT_SET(client, referral_login_client_module, ctx);
}

struct login_client_hooks g_hooks = {referralClientAllocated};

}  // namespace

namespace dref {

void loginClientHooksAdd(struct module* module, const LoginPluginConfig* config) {
    g_config = config;
    login_client_hooks_add(module, &g_hooks);
}

void loginClientHooksRemove() {
    login_client_hooks_remove(&g_hooks);
    g_config = nullptr;
}

}  // namespace dref
