#include "login_settings.h"

#include <cstdlib>

#include "dref_version.h"
#include "login_reply.h"

namespace dref {

std::string loginSettingsPath() {
    const char* env = std::getenv(DREF_SETTINGS_ENV);
    if (env != nullptr && env[0] != '\0') return env;
    return DREF_DEFAULT_SETTINGS_FILE;
}

bool loadLoginPluginConfig(const std::string& path, LoginPluginConfig* out, std::string* error) {
    if (!loadSettingsFromPath(path, &out->settings, error)) return false;
    out->drainGreeting.clear();
    if (!out->settings.login.drainHost.empty()) {
        std::string why;
        out->drainGreeting = composeDrainGreeting(out->settings.login, &why);
        if (out->drainGreeting.empty()) {
            *error = path + ": drain_host: " + why;
            return false;
        }
    }
    return true;
}

}  // namespace dref
