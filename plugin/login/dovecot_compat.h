#pragma once
// The login plugin's one contact surface with Dovecot's headers, and the only
// place where Dovecot 2.3 and 2.4 (and Debian's patched builds of them)
// differ for it (docs/dovecot-2.4.md, "login plugin on 2.4").  Every other
// glue file of plugin/login includes this and is written once for both
// versions; the version-dependent operations are the functions below
// (dovecot_compat.cpp), chosen there with DOVECOT_PREREQ.
//
// The headers are C without extern "C" guards (DOVECOT-NOTES §4.1), so they
// are wrapped here.  No imap-process header may ever join them (each side
// defines its own struct client).
#include <cstdint>
#include <string>
#include <string_view>

extern "C" {
#include "lib.h"
#include "ioloop.h"
#include "ostream.h"
#include "strnum.h"
#include "str.h"
#include "module-context.h"
#include "login-common.h"
#include "client-common.h"
#include "imap-login-client.h"
}

namespace dref {
namespace compat {

// Refuses a running imap-login whose struct client_vfuncs is not the one
// these headers describe.  Debian changed that struct in stable updates
// without changing DOVECOT_ABI_VERSION (deb12u7, and again in 2.4.1's
// package: v.disconnect after v.create), so the module loader's ABI check
// passes and a module built against other headers would call the wrong
// vfuncs.  The check compares the slots of imap-login's own vfunc table
// (login_binary->client_vfuncs, before any plugin changed a copy of it) at
// the offsets these headers give with the addresses of the functions that
// imap-login exports for them (imap_client_auth_result, imap_proxy_*).
// nullptr when they all match, else the message for i_fatal().
const char* clientVfuncLayoutMismatch() noexcept;

// The previous layer's vfuncs of `client` (the plugin's module context).
using SuperVfuncs = const struct client_vfuncs* (*)(struct client* client);
// Runs after the previous layer's v.create has succeeded.
using AfterCreate = void (*)(struct client* client);
// Sets v->create to: the previous layer's create (found with `super`), then,
// if it succeeded, `after`.  2.3: void create(client, void **other_sets);
// 2.4: int create(client), where < 0 makes client_init() fail.  One hook per
// module (the plugin has one: drain mode).
void overrideCreate(struct client_vfuncs* v, SuperVfuncs super, AfterCreate after);

// Replaces a backend line before the previous layer's v.proxy_parse_line
// sees it: returns the line to hand on instead (allocated from the data
// stack), or nullptr to hand on `line` unchanged.  Must not throw.
using ProxyLineFilter = const char* (*)(struct client* client, const char* line);
// Sets v->proxy_parse_line to `filter`, then the previous layer's
// proxy_parse_line (found with `super`); the same on 2.3 and 2.4 (both
// imap-logins hand every line of the home server to that vfunc before
// acting on it).  One hook per module.
void overrideProxyParseLine(struct client_vfuncs* v, SuperVfuncs super, ProxyLineFilter filter);

// True when imap-login FOLLOWS a home server's `NO [REFERRAL ...]` to the
// proxy's login itself: 2.4 (imap-proxy.c makes it a
// LOGIN_PROXY_FAILURE_TYPE_AUTH_REDIRECT, login-proxy.c reconnects with the
// client's credentials), so the plugin must check that line before Dovecot
// acts on it.  False on 2.3, which relays that line to the client unchanged
// and connects nowhere else: nothing to guard.
bool proxyFollowsLoginReferrals();

// The port of the backend a proxied client is being logged in at, which a
// redirect without a port keeps (login_proxy_get_port()); 0 when the client
// is not being proxied.
uint16_t proxyBackendPort(struct client* client);

// The login referral target of a passdb reply that Dovecot hands to
// v.auth_result: 2.3 reply->destuser/host/port, 2.4 reply->proxy.username/
// host/port (auth-proxy.h).  `user` is empty when the passdb gave no
// destuser (2.4 fills in the login name itself).
struct ReplyTarget {
    std::string_view user;  // views of the reply's strings (no copy)
    std::string_view host;
    uint16_t port = 0;
};
ReplyTarget replyTarget(const struct client_auth_reply* reply);

// The message callback of a client's event: Dovecot's (login-common's
// client_log_msg_callback(), static) expands login_log_format and
// login_log_format_elements around every line of the client.
struct LogMessageCallback {
    event_log_message_callback_t* callback = nullptr;
    void* context = nullptr;
};
// Puts `hook` (with `context`) in front of that callback and returns the one
// it replaces, which the hook must call with the message it wants logged.
// lib-event has no getter for an event's callback, so this reads it from
// struct event (lib-event-private.h, installed with dovecot-dev; the same
// two fields in 2.3.19.1 and 2.4.1).
LogMessageCallback chainClientLogMessage(struct client* client,
                                         event_log_message_callback_t* hook, void* context);

// Path of the shared settings file for this imap-login process, read once
// at plugin init (as root, before the chroot); false + *error when it cannot
// be determined (never throws).
//   2.3: $DOVECOT_REFERRAL_CONFIG (login processes get no plugin {}
//        settings; the admin passes it with import_environment), else
//        DREF_DEFAULT_SETTINGS_FILE.
//   2.4: the `referral_config` setting of our settings module, with the
//        filters of the imap-login process (global, protocol imap { }).
//        The environment variable is not read; when it is set and names
//        another file, *warning says that it is ignored.
bool loginSettingsPath(std::string* path, std::string* warning, std::string* error) noexcept;

}  // namespace compat
}  // namespace dref
