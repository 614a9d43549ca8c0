// Drain mode (RFC 2221 §4.2, R2221-13, D-16): every new connection is greeted
// with "* BYE [REFERRAL imap://;AUTH=*@<drain_host>[:port]/] <drain_text>"
// (RFC 3501 greeting = "*" SP resp-cond-bye) and closed; no command is read.
//
// Closing cleanly: a client often sends its first command without waiting
// for the greeting.  close() on a socket with unread input sends an RST,
// and the peer's kernel may drop the BYE line it had not delivered yet.  So
// the greeting is flushed, the write side is shut down (FIN after the BYE),
// input is read and discarded until the client closes or a short linger
// time ends, and only then is the client destroyed.
#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

#include "dovecot_compat.h"
#include "login_client_context.h"

namespace {

using dref::ReferralLoginClient;

// The greeting may wait in the output buffer (TLS handshake on an imaps
// listener): retry the flush for up to 5 s.
constexpr unsigned int kFlushIntervalMs = 100;
constexpr unsigned int kFlushMaxTries = 50;
// How long pending client input is discarded after the FIN.
constexpr unsigned int kLingerMs = 1000;

void drainFinish(struct client* client) noexcept {
    ReferralLoginClient* ctx = dref::referralLoginContext(client);
    io_remove(&ctx->io_drain);
    timeout_remove(&ctx->to_drain);
    client_destroy(client, t_strdup_printf("Drain mode: referred to %s",
                                           dref::referralLoginConfig()->settings.login.drainHost.c_str()));
}

void drainDiscardInput(struct client* client) noexcept {
    char buf[1024];
    for (;;) {
        ssize_t n = read(client->fd, buf, sizeof(buf));
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // wait for more or EOF
        drainFinish(client);  // EOF or error: the client is gone
        return;
    }
}

void drainClose(struct client* client) noexcept {
    ReferralLoginClient* ctx = dref::referralLoginContext(client);
    timeout_remove(&ctx->to_drain);
    // 2.4's client_init() adds Dovecot's input io after v.create (2.3's
    // imap_client_create() did it inside, and drainAfterCreate removed it);
    // this runs after client_init(), so remove it here too.
    io_remove(&client->io);
    (void)o_stream_flush(client->output);
    if (o_stream_get_buffer_used_size(client->output) > 0 &&
        ++ctx->drain_flush_tries < kFlushMaxTries) {
        ctx->to_drain = timeout_add_short(kFlushIntervalMs, drainClose, client);
        return;
    }
    if (client->fd == -1 || shutdown(client->fd, SHUT_WR) < 0) {
        drainFinish(client);
        return;
    }
    ctx->io_drain = io_add(client->fd, IO_READ, drainDiscardInput, client);
    ctx->to_drain = timeout_add_short(kLingerMs, drainFinish, client);
    drainDiscardInput(client);
}

// Sent from v.create (after the previous layer's create, see
// compat::overrideCreate) so that it does not wait for the auth process.
// The input io is removed at once, so LOGIN is never processed; the rest
// runs from a fresh ioloop callback because client_init() still uses the
// client after v.create returns.
void drainAfterCreate(struct client* client) noexcept {
    ReferralLoginClient* ctx = dref::referralLoginContext(client);
    ctx->draining = true;
    e_debug(event_create_passthrough(client->event)
                ->add_category(dref::referralEventCategory())
                ->set_name("referral_login_reply")
                ->add_str("reply", "drain")
                ->add_str("host", dref::referralLoginConfig()->settings.login.drainHost.c_str())
                ->event(),
            "drain mode: BYE referral greeting");
    client_send_raw(client, dref::referralLoginConfig()->drainGreeting.c_str());
    io_remove(&client->io);
    ctx->to_drain = timeout_add_short(0, drainClose, client);
}

const struct client_vfuncs* drainSuper(struct client* client) {
    return &dref::referralLoginContext(client)->module_ctx.super;
}

// Dovecot's io on the client input calls v.input.  On 2.4 that io exists
// from the end of client_init() until drainClose() runs (a client whose
// first bytes arrive in between would otherwise get its command parsed):
// drop the io and leave the bytes to drainDiscardInput().  Never reads.
void drainInput(struct client* client) noexcept { io_remove(&client->io); }

void drainNotifyAuthReady(struct client* client) noexcept {
    ReferralLoginClient* ctx = dref::referralLoginContext(client);
    if (ctx->draining) return;  // the BYE greeting replaces the OK greeting
    ctx->module_ctx.super.notify_auth_ready(client);
}

void drainDestroy(struct client* client) noexcept {
    ReferralLoginClient* ctx = dref::referralLoginContext(client);
    io_remove(&ctx->io_drain);
    timeout_remove(&ctx->to_drain);
    if (ctx->module_ctx.super.destroy != nullptr) ctx->module_ctx.super.destroy(client);
}

}  // namespace

namespace dref {

void installDrainOverrides(struct client_vfuncs* v) {
    compat::overrideCreate(v, drainSuper, drainAfterCreate);
    v->input = drainInput;
    v->notify_auth_ready = drainNotifyAuthReady;
    v->destroy = drainDestroy;
}

}  // namespace dref
