#pragma once
// The Dovecot 2.4 side of our one Dovecot setting, `referral_config` (the
// path of the shared settings file), for the glue of every plugin.  2.4 only:
// 2.3 has no typed settings, each plugin's compat layer reads its own
// 2.3 place instead (docs/dovecot-2.4.md).
// No Dovecot include, so any glue file can include it.
#include <string>

struct event;

// Path of the shared settings file as Dovecot 2.4's settings give it for
// `event`'s filters (global, `protocol imap { }`, `passdb referral { }`, ...):
// the value of referral_config, DREF_DEFAULT_SETTINGS_FILE when unset.
// false + *error on failure (never throws).
bool referralConfigPath(struct event* event, std::string* path, std::string* error);
