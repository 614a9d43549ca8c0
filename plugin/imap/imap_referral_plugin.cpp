// imap plugin entry points (module name "imap_referral", loaded with
// protocol imap { mail_plugins = $mail_plugins imap_referral }).  init runs
// once per imap process after the privilege drop (DOVECOT-NOTES §2.1).
#include <exception>

#include "dref_version.h"
#include "imap_glue.h"

#define DREF_EXPORT __attribute__((visibility("default")))

namespace {
struct module* g_module = nullptr;
}

struct module* dref::imapReferralModule() { return g_module; }

extern "C" {

DREF_EXPORT const char* imap_referral_plugin_version = DOVECOT_ABI_VERSION;
// Only the imap binary has cmd_list_full, client hooks and the command table.
DREF_EXPORT extern const char imap_referral_plugin_binary_dependency[] = "imap";

DREF_EXPORT void imap_referral_plugin_init(struct module* module);
DREF_EXPORT void imap_referral_plugin_deinit(void);

void imap_referral_plugin_init(struct module* module) {
    g_module = module;
    try {
        dref::sessionGlueInit(module);
        dref::storageGlueInit(module);
        dref::listCommandsInit();
        dref::subscribeCommandsInit();
        dref::mailboxRelayInit(module);
        // Every imap process loads the plugin (one per session in the
        // default mode): an info line each time is log volume without news.
        // Debug, with our category: log_debug = category=referral shows it.
        struct event* event = event_create(nullptr);
        event_add_category(event, &dref::event_category_referral);
        e_debug(event, "dovecot-referral " DREF_VERSION " imap plugin loaded");
        event_unref(&event);
    } catch (const std::exception& e) {
        i_error("dovecot-referral imap plugin: init failed: %s", e.what());
    } catch (...) {
        i_error("dovecot-referral imap plugin: init failed");
    }
}

void imap_referral_plugin_deinit(void) {
    try {
        dref::mailboxRelayDeinit();
        dref::subscribeCommandsDeinit();
        dref::listCommandsDeinit();
        dref::storageGlueDeinit();
        dref::sessionGlueDeinit();
    } catch (...) {
    }
    g_module = nullptr;
}

}  // extern "C"
