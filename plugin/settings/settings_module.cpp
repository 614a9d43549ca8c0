// libdovecot_referral_settings.so: the settings module Dovecot 2.4's config
// process loads from <moduledir>/settings.  Module name (module-dir.c:
// lib<name>.so) "dovecot_referral_settings"; config-parser.c takes
// <name>_set_infos (a NULL-terminated array of settings structs it then
// accepts in dovecot.conf and hands to every process) and module-dir.c
// checks <name>_version against its own ABI version.  The module has no
// code: config only reads these two symbols.
extern "C" {
#include "lib.h"
#include "settings-parser.h"
}

#include "referral_settings_info.h"

extern "C" {
__attribute__((visibility("default"))) extern const char* dovecot_referral_settings_version;
__attribute__((visibility("default"))) extern const struct setting_parser_info*
    dovecot_referral_settings_set_infos[];

// module-dir.c reads this symbol as a `const char *` variable.
const char* dovecot_referral_settings_version = DOVECOT_ABI_VERSION;

const struct setting_parser_info* dovecot_referral_settings_set_infos[] = {
    &referral_setting_parser_info,
    nullptr,
};
}
