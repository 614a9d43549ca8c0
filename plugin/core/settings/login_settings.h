#pragma once
// What the login plugin keeps from the shared settings file.  No Dovecot
// include: the glue (plugin/login) finds the file and turns a false return
// into i_fatal.
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

// Reads and checks the file.  On failure *error is
// "<file>:<line>: <key>: <message>" (or "<file>: <key>: <message>" for a
// check that spans lines) and the plugin must stop the process.
bool loadLoginPluginConfig(const std::string& path, LoginPluginConfig* out, std::string* error);

}  // namespace dref
