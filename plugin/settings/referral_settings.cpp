// referralConfigPath(): our one setting through Dovecot 2.4's settings_get()
// (see referral_settings.h).
extern "C" {
#include "lib.h"
#include "settings.h"
}

#include "referral_settings.h"
#include "referral_settings_info.h"

bool referralConfigPath(struct event* event, std::string* path, std::string* error) {
    const struct referral_settings* set = nullptr;
    const char* dovecotError = nullptr;
    // The function form: the settings_get() macro passes set_r through a
    // `void *` cast that C++ does not convert to `const void **`.
    // NO_EXPAND: the value is SET_STR_NOVARS, there is nothing to expand.
    int ret = (settings_get)(event, &referral_setting_parser_info, SETTINGS_GET_FLAG_NO_EXPAND,
                             __FILE__, __LINE__, reinterpret_cast<const void**>(&set),
                             &dovecotError);
    try {
        if (ret < 0) {
            // e.g. "BUG: Configuration has no settings struct named referral"
            // when the settings module is not installed.
            *error = dovecotError != nullptr ? dovecotError : "settings lookup failed";
            return false;
        }
        *path = set->referral_config;
    } catch (...) {  // std::bad_alloc: nothing may reach Dovecot's frames
        settings_free(set);
        try {
            *error = "out of memory";
        } catch (...) {
        }
        return false;
    }
    settings_free(set);
    return true;
}
