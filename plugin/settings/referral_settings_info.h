#pragma once
// The settings struct "referral" as Dovecot 2.4's settings code sees it.
// Compiled into both the settings module (so the config process knows the
// key and checks it) and dref_dovecot_settings (so settings_get() in the
// plugins can decode what config sends).  Include inside extern "C" users
// of Dovecot headers only after lib.h and settings-parser.h.

struct referral_settings {
    pool_t pool;
    // Path of the shared settings file (absolute).
    const char* referral_config;
};

extern const struct setting_parser_info referral_setting_parser_info;
