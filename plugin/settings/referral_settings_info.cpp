// Definition of the settings struct "referral" (see referral_settings_info.h).
//
// The SETTING_DEFINE_* and SETTING_DEFINE_LIST_END macros of settings-parser.h
// cannot be used from C++: they initialise the enum members from int
// arithmetic, which C++ does not convert implicitly.  The entries are written
// out with designated initializers instead; a Dovecot that reorders these
// structs makes them fail to compile rather than silently mean something else.
extern "C" {
#include "lib.h"
#include "settings-parser.h"
}

#include <cstddef>

#include "dref_version.h"
#include "referral_settings_info.h"

namespace {

const struct setting_define referralSettingDefines[] = {
    // NOVARS: the path is read once per process, before any user exists, so
    // a %variable could never be expanded the way an administrator expects.
    {.type = SET_STR_NOVARS,
     .flags = static_cast<enum setting_flags>(0),
     .key = "referral_config",
     .offset = offsetof(struct referral_settings, referral_config),
     .filter_array_field_name = nullptr,
     .filter_array_order = nullptr,
     .required_setting = nullptr},
    {.type = static_cast<enum setting_type>(0),
     .flags = static_cast<enum setting_flags>(0),
     .key = nullptr,
     .offset = 0,
     .filter_array_field_name = nullptr,
     .filter_array_order = nullptr,
     .required_setting = nullptr},
};

const struct referral_settings referralDefaultSettings = {
    .pool = nullptr,
    .referral_config = DREF_DEFAULT_SETTINGS_FILE,
};

// Runs in the config process (doveconf, dovecot start) for every filter that
// sets the key, and again in each process's settings_get().  Dovecot's
// processes run with base_dir as working directory, so a relative path would
// silently name a file under /run/dovecot: refuse it, and an empty value.
bool referralSettingsCheck(void* setp, pool_t /*pool*/, const char** error_r) {
    const auto* set = static_cast<const struct referral_settings*>(setp);
    const char* path = set->referral_config;
    if (path == set_value_unknown) return true;  // doveconf without expansion
    if (path == nullptr || path[0] == '\0') {
        *error_r = "referral_config: must not be empty (path of the dovecot-referral settings file)";
        return false;
    }
    if (path[0] != '/') {
        *error_r = t_strdup_printf("referral_config: must be an absolute path, not '%s'", path);
        return false;
    }
    return true;
}

}  // namespace

const struct setting_parser_info referral_setting_parser_info = {
    .name = "referral",
    .plugin_dependency = nullptr,
    .defines = referralSettingDefines,
    .defaults = &referralDefaultSettings,
    .default_settings = nullptr,
    .struct_size = sizeof(struct referral_settings),
    .pool_offset1 = 1 + offsetof(struct referral_settings, pool),
    .setting_apply = nullptr,
    .check_func = referralSettingsCheck,
    .ext_check_func = nullptr,
};
