// The version-dependent part of the login glue (see dovecot_compat.h).  The
// only file of plugin/login with DOVECOT_PREREQ.
#include "dovecot_compat.h"

#include <dlfcn.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "dref_version.h"

extern "C" {
#include "lib-event-private.h"
}

#if DOVECOT_PREREQ(2, 4, 0)
extern "C" {
#include "master-service.h"
}
#include "referral_settings.h"
#endif

// Test hook only (tests/integration/login, test_vfunc_layout_guard): the
// number of pointer slots by which the layout check looks past the offsets
// of these headers, which is what a module built against headers with that
// many more vfuncs in front would do.  0 in every real build.
#ifndef DREF_LOGIN_VFUNC_CHECK_SKEW
#define DREF_LOGIN_VFUNC_CHECK_SKEW 0
#endif

namespace dref {
namespace compat {

namespace {

// Slots of struct client_vfuncs that imap-login fills with functions it
// exports (nm -D /usr/lib/dovecot/imap-login), the same in 2.3.19.1 and
// 2.4.1.  v.auth_result is one the plugin overrides; the proxy ones sit
// near the end of the struct, so together they catch a vfunc inserted or
// removed anywhere before them.
struct VfuncSlot {
    size_t offset;
    const char* symbol;
};
const VfuncSlot kCheckedSlots[] = {
    {offsetof(struct client_vfuncs, auth_result), "imap_client_auth_result"},
    {offsetof(struct client_vfuncs, proxy_reset), "imap_proxy_reset"},
    {offsetof(struct client_vfuncs, proxy_parse_line), "imap_proxy_parse_line"},
    {offsetof(struct client_vfuncs, proxy_failed), "imap_proxy_failed"},
    {offsetof(struct client_vfuncs, proxy_get_state), "imap_proxy_get_state"},
};

// The address stored in a function pointer slot, as an integer (a function
// pointer and dlsym()'s void * cannot be compared directly in C++).
uintptr_t slotValue(const struct client_vfuncs* table, size_t offset) {
    uintptr_t value;
    std::memcpy(&value, reinterpret_cast<const unsigned char*>(table) + offset, sizeof value);
    return value;
}

SuperVfuncs g_super = nullptr;
AfterCreate g_after_create = nullptr;

#if DOVECOT_PREREQ(2, 4, 0)
int createThenHook(struct client* client) noexcept {
    if (g_super(client)->create(client) < 0) return -1;
    g_after_create(client);
    return 0;
}
#else
void createThenHook(struct client* client, void** other_sets) noexcept {
    g_super(client)->create(client, other_sets);
    g_after_create(client);
}
#endif

// $DOVECOT_REFERRAL_CONFIG when it is set and not empty, else "".  On
// Dovecot 2.3 it names the settings file (passed to imap-login with
// import_environment, because login processes get no plugin {} settings);
// loginSettingsPath() decides which source wins on which version.
std::string settingsPathFromEnvironment() {
    const char* env = std::getenv(DREF_SETTINGS_ENV);
    return env != nullptr ? std::string(env) : std::string();
}

SuperVfuncs g_proxy_super = nullptr;
ProxyLineFilter g_proxy_filter = nullptr;

int filterThenParseLine(struct client* client, const char* line) noexcept {
    const char* replacement = g_proxy_filter(client, line);
    return g_proxy_super(client)->proxy_parse_line(client, replacement != nullptr ? replacement
                                                                                  : line);
}

}  // namespace

const char* clientVfuncLayoutMismatch() noexcept {
    static_assert(sizeof(uintptr_t) == sizeof(void (*)()), "function pointers are not data-sized");
    const struct client_vfuncs* table =
        login_binary != nullptr ? login_binary->client_vfuncs : nullptr;
    if (table == nullptr)
        return "dovecot-referral login plugin: imap-login has no client vfunc table at plugin "
               "init: rebuild the plugin against the installed dovecot-dev";
    for (const VfuncSlot& slot : kCheckedSlots) {
        void* exported = dlsym(RTLD_DEFAULT, slot.symbol);
        if (exported == nullptr)
            return "dovecot-referral login plugin: this imap-login does not export the "
                   "functions the struct client_vfuncs check needs (imap_client_auth_result, "
                   "imap_proxy_*): rebuild the plugin against the installed dovecot-dev";
        const size_t offset = slot.offset + DREF_LOGIN_VFUNC_CHECK_SKEW * sizeof(void*);
        if (offset + sizeof(void*) > sizeof(struct client_vfuncs) ||
            slotValue(table, offset) != reinterpret_cast<uintptr_t>(exported))
            return "dovecot-referral login plugin: built against Dovecot headers whose "
                   "struct client_vfuncs differs from this imap-login's (a vfunc slot does "
                   "not hold the function imap-login exports for it): rebuild the plugin "
                   "against the installed dovecot-dev";
    }
    return nullptr;
}

void overrideCreate(struct client_vfuncs* v, SuperVfuncs super, AfterCreate after) {
    g_super = super;
    g_after_create = after;
    v->create = createThenHook;
}

void overrideProxyParseLine(struct client_vfuncs* v, SuperVfuncs super, ProxyLineFilter filter) {
    g_proxy_super = super;
    g_proxy_filter = filter;
    v->proxy_parse_line = filterThenParseLine;
}

bool proxyFollowsLoginReferrals() {
#if DOVECOT_PREREQ(2, 4, 0)
    return true;
#else
    return false;
#endif
}

uint16_t proxyBackendPort(struct client* client) {
    if (client->login_proxy == nullptr) return 0;
    return login_proxy_get_port(client->login_proxy);
}

ReplyTarget replyTarget(const struct client_auth_reply* reply) {
    ReplyTarget target;
#if DOVECOT_PREREQ(2, 4, 0)
    if (reply->proxy.username != nullptr) target.user = reply->proxy.username;
    if (reply->proxy.host != nullptr) target.host = reply->proxy.host;
    target.port = reply->proxy.port;
#else
    if (reply->destuser != nullptr) target.user = reply->destuser;
    if (reply->host != nullptr) target.host = reply->host;
    target.port = reply->port;
#endif
    return target;
}

LogMessageCallback chainClientLogMessage(struct client* client,
                                         event_log_message_callback_t* hook, void* context) {
    LogMessageCallback previous;
    previous.callback = client->event->log_message_callback;
    previous.context = client->event->log_message_callback_context;
    event_set_log_message_callback(client->event, hook, context);
    return previous;
}

bool loginSettingsPath(std::string* path, std::string* warning, std::string* error) noexcept {
    try {
        const std::string fromEnvironment = settingsPathFromEnvironment();
#if DOVECOT_PREREQ(2, 4, 0)
        // One place for the path on 2.4, the same setting the passdb and the
        // imap plugin read: the process event carries protocol=imap, so a
        // value in `protocol imap { }` applies.  Per-listener filters
        // (local_ip, local_name) cannot apply: the file is read once per
        // process, as root, before any client exists.
        if (!referralConfigPath(master_service_get_event(master_service), path, error)) {
            // The usual cause: the settings module that declares the
            // setting is not installed, so name it.
            *error = std::string("dovecot-referral login plugin: referral_config: ") + *error +
                     " (Dovecot 2.4 knows this setting only with libdovecot_referral_settings.so "
                     "in <moduledir>/settings)";
            return false;
        }
        if (!fromEnvironment.empty() && fromEnvironment != *path)
            *warning = std::string("dovecot-referral login plugin: ") + DREF_SETTINGS_ENV + "=" +
                       fromEnvironment + " is ignored on Dovecot 2.4, using referral_config = " +
                       *path;
#else
        *path = fromEnvironment.empty() ? std::string(DREF_DEFAULT_SETTINGS_FILE) : fromEnvironment;
        (void)warning;
#endif
        return true;
    } catch (const std::exception& e) {
        *error = std::string("dovecot-referral login plugin: ") + e.what();
    } catch (...) {
        *error = "dovecot-referral login plugin: unknown exception while reading settings";
    }
    return false;
}

}  // namespace compat
}  // namespace dref
