// imap-login plugin entry points (module name "referral_login", loaded with
// login_plugins = referral_login).  init runs as root before the chroot
// (DOVECOT-NOTES §1.1), which is when the settings file can still be read.
#include <dlfcn.h>

#include <exception>
#include <string>

extern "C" {
#include "lib.h"
}

#include "dref_version.h"
#include "login_client.h"
#include "login_client_context.h"
#include "login_settings.h"

#define DREF_EXPORT __attribute__((visibility("default")))

namespace {
dref::LoginPluginConfig* g_config = nullptr;

// The struct client_vfuncs layout this module was compiled for must be the
// one of the running libdovecot-login (see CMakeLists.txt): the Debian
// security update deb12u7 inserted v.disconnect and exported
// client_forward_decode_base64() with it, under the same ABI string.
const char* vfuncLayoutMismatch() {
    const bool running_has = dlsym(RTLD_DEFAULT, "client_forward_decode_base64") != nullptr;
    const bool built_has = DREF_HEADERS_HAVE_VFUNC_DISCONNECT != 0;
    if (running_has == built_has) return nullptr;
    return built_has
               ? "dovecot-referral login plugin: built against Dovecot headers with "
                 "client_vfuncs.disconnect, but this imap-login has the older layout: "
                 "rebuild the plugin against the installed dovecot-dev"
               : "dovecot-referral login plugin: built against Dovecot headers without "
                 "client_vfuncs.disconnect, but this imap-login has it: rebuild the plugin "
                 "against the installed dovecot-dev";
}

// One line per imap-login process: with service_count = 1 that is one per
// connection, so only drain mode (which changes what every client sees)
// says so at info; otherwise it is debug (log_debug = category=referral).
void logLoaded(const std::string& path, bool drain) {
    if (drain) {
        i_info("dovecot-referral " DREF_VERSION " login plugin: settings %s (drain mode)",
               path.c_str());
        return;
    }
    struct event* event = event_create(nullptr);
    event_add_category(event, dref::referralEventCategory());
    e_debug(event, "dovecot-referral " DREF_VERSION " login plugin: settings %s", path.c_str());
    event_unref(&event);
}

}  // namespace

extern "C" {

DREF_EXPORT const char* referral_login_plugin_version = DOVECOT_ABI_VERSION;
// pop3-login, submission-login, ... have no IMAP referrals.
// (extern: a namespace-scope const would otherwise have internal linkage)
DREF_EXPORT extern const char referral_login_plugin_binary_dependency[] = "imap-login";

DREF_EXPORT void referral_login_plugin_init(struct module* module);
DREF_EXPORT void referral_login_plugin_deinit(void);

void referral_login_plugin_init(struct module* module) {
    std::string error;
    const char* fatal = nullptr;
    if (const char* mismatch = vfuncLayoutMismatch()) i_fatal("%s", mismatch);
    try {
        std::string path = dref::loginSettingsPath();
        auto* config = new dref::LoginPluginConfig();
        if (!dref::loadLoginPluginConfig(path, config, &error)) {
            delete config;
            fatal = error.c_str();
        } else {
            g_config = config;
            dref::loginClientHooksAdd(module, g_config);
            logLoaded(path, !g_config->drainGreeting.empty());
        }
    } catch (const std::exception& e) {
        error = std::string("dovecot-referral login plugin: ") + e.what();
        fatal = error.c_str();
    } catch (...) {
        error = "dovecot-referral login plugin: unknown exception at init";
        fatal = error.c_str();
    }
    // i_fatal() exits without unwinding: call it outside the try block, and
    // copy the message first because `error` is not destroyed.
    if (fatal != nullptr) i_fatal("%s", t_strdup(fatal));
}

void referral_login_plugin_deinit(void) {
    if (g_config == nullptr) return;
    dref::loginClientHooksRemove();
    delete g_config;
    g_config = nullptr;
}

}  // extern "C"
