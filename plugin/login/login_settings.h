#pragma once
// Where the login plugin finds the shared settings file, and what it keeps
// from it.  No Dovecot include: the glue turns a false return into i_fatal.
#include <string>

#include "login_reply.h"
#include "settings.h"

namespace dref {

struct LoginPluginConfig {
    Settings settings;
    // The per-settings parts of every login referral (prepareLoginReply()).
    LoginReplyPresets reply;
    // The complete drain-mode greeting line (CRLF included), or empty when
    // drain_host is not set.
    std::string drainGreeting;
};

// $DOVECOT_REFERRAL_CONFIG when it is set and not empty, else "".  On
// Dovecot 2.3 it names the settings file (passed to imap-login with
// import_environment, because login processes get no plugin {} settings);
// which source wins on which version is decided in dovecot_compat.cpp.
std::string settingsPathFromEnvironment();

// Reads and checks the file.  On failure *error is
// "<file>:<line>: <key>: <message>" (or "<file>: <key>: <message>" for a
// check that spans lines) and the plugin must stop the process.
bool loadLoginPluginConfig(const std::string& path, LoginPluginConfig* out, std::string* error);

}  // namespace dref
