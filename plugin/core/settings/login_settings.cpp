#include "login_settings.h"

#include "login_reply.h"
#include "process_secrets.h"
#include "settings_file.h"

namespace dref {

bool loadLoginPluginConfig(const std::string& path, LoginPluginConfig* out, std::string* error) {
    std::string text;
    SettingsFile file;
    const bool loaded = readSettingsText(path, &text, error) &&
                        parseSettingsText(text, path, &file, error) &&
                        loadSettings(file, &out->settings, error);
    // This process faces unauthenticated clients for the rest of its life
    // and binds to no directory: the file's passwords leave its memory now
    // (process_secrets.h), from the raw text, the parsed lines and the
    // settings alike.
    wipeString(&text);
    for (SettingLine& line : file.lines) wipeString(&line.value);
    forgetSettingsSecrets(&out->settings);
    if (!loaded) return false;
    out->reply = prepareLoginReply(out->settings.login);
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
