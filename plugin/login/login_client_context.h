#pragma once
// The plugin's per-client state and its accessors, shared by the referral
// overrides (login_client.cpp) and drain mode (login_drain.cpp).  Glue only:
// includes imap-login's headers (through dovecot_compat.h).
#include "dovecot_compat.h"
#include "login_settings.h"

namespace dref {

// Allocated zeroed from the client's pool by Dovecot: plain data only.
struct ReferralLoginClient {
    union login_client_module_context module_ctx;  // super vfuncs + register
    // Drain mode.
    struct timeout* to_drain;
    struct io* io_drain;
    unsigned int drain_flush_tries;
    bool draining;
    // The tagged OK [REFERRAL ...] of a local login has been sent; the
    // command must not get a second tagged completion.
    bool ok_referral_sent;
};

ReferralLoginClient* referralLoginContext(struct client* client);
// The loaded configuration; never null while the hook is registered.
const LoginPluginConfig* referralLoginConfig();

// Event category "referral" (shared with the passdb driver and imap plugin).
struct event_category* referralEventCategory();

// Drain mode (login_drain.cpp): installs v.create, v.input,
// v.notify_auth_ready and v.destroy on the previous vfunc layer `v`.
void installDrainOverrides(struct client_vfuncs* v);

// The home server referral guard (login_proxy_referral.cpp): on 2.4 checks
// the backend's reply to the proxy's login before imap-login follows a
// referral in it; nothing on 2.3 (dovecot_compat.h, overrideProxyParseLine).
void installProxyReferralGuard(struct client_vfuncs* v);

}  // namespace dref
