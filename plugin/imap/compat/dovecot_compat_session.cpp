// The version-dependent operations of the imap plugin's session set-up
// (dovecot_compat.h): where the settings file is configured, and the IMAP
// command table.
#include "dovecot_compat.h"

#include "dref_version.h"

#if DOVECOT_PREREQ(2, 4, 0)
#include "referral_settings.h"
#endif

namespace dref {
namespace compat {

bool referralConfigPath(struct mail_user* user, std::string* path, std::string* error) noexcept {
    try {
#if DOVECOT_PREREQ(2, 4, 0)
        // 2.4 has no plugin {} section: referral_config is a typed setting
        // of our settings module, looked up through the user's event so
        // that protocol imap { } and other filters apply.
        std::string configured;
        if (!::referralConfigPath(user->event, &configured, error)) {
            // The one failure an admin meets on a fresh install: the plugin
            // is enabled but our settings module is not where Dovecot's
            // config process loads settings modules from.
            if (error->find("no settings struct") != std::string::npos)
                *error += " (is libdovecot_referral_settings.so installed in Dovecot's "
                          "modules/settings directory?)";
            return false;
        }
        *path = configured.empty() ? std::string(DREF_DEFAULT_SETTINGS_FILE) : configured;
#else
        const char* configured = mail_user_plugin_getenv(user, "referral_config");
        *path = configured != nullptr && *configured != '\0' ? configured
                                                             : DREF_DEFAULT_SETTINGS_FILE;
        (void)error;
#endif
        return true;
    } catch (...) {
        // std::bad_alloc from the strings; assigning the message could throw
        // again, and nothing may leave this noexcept function.
        try {
            *error = "out of memory reading referral_config";
        } catch (...) {
        }
    }
    return false;
}

const char* referralConfigSettingName() noexcept {
#if DOVECOT_PREREQ(2, 4, 0)
    return "referral_config";
#else
    return "plugin { referral_config }";
#endif
}

command_func_t* replaceCommandFunc(const char* name, command_func_t* func) noexcept {
    const struct command* command = command_find(name);
    if (command == nullptr) return nullptr;
    // Copies first: unregistering moves other entries into the array slot
    // `command` points to.
    const char* registeredName = command->name;
    command_func_t* previous = command->func;
    const enum command_flags flags = command->flags;
    command_unregister(registeredName);
    command_register(registeredName, func, flags);
    return previous;
}

void restoreCommandFunc(const char* name, command_func_t* ours, command_func_t* original) noexcept {
    const struct command* command = command_find(name);
    if (command == nullptr || command->func != ours || original == nullptr) return;
    const char* registeredName = command->name;
    const enum command_flags flags = command->flags;
    command_unregister(registeredName);
    command_register(registeredName, original, flags);
}

}  // namespace compat
}  // namespace dref
