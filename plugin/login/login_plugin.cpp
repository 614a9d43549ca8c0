// imap-login plugin entry points (module name "referral_login", loaded with
// login_plugins = referral_login on 2.3, login_plugins { referral_login =
// yes } on 2.4).  init runs as root before the chroot (DOVECOT-NOTES §1.1),
// which is when the settings file can still be read.
#include <exception>
#include <string>

#include "dovecot_compat.h"
#include "dref_version.h"
#include "login_client.h"
#include "login_client_context.h"
#include "login_settings.h"

#define DREF_EXPORT __attribute__((visibility("default")))

namespace {
dref::LoginPluginConfig* g_config = nullptr;

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
    // Before anything touches a struct client: with another vfunc layout
    // every override below would land in the wrong slot.
    if (const char* mismatch = dref::compat::clientVfuncLayoutMismatch()) i_fatal("%s", mismatch);
    try {
        std::string path;
        std::string warning;
        auto* config = new dref::LoginPluginConfig();
        if (!dref::compat::loginSettingsPath(&path, &warning, &error) ||
            !dref::loadLoginPluginConfig(path, config, &error)) {
            delete config;
            fatal = error.c_str();
        } else {
            g_config = config;
            if (!warning.empty()) i_warning("%s", warning.c_str());
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
