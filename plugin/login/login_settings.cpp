#include "login_settings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "login_reply.h"
#include "process_secrets.h"

namespace dref {

namespace {

// The same limit as readSettingsFile() (plugin/core/settings/settings_file.cpp).
constexpr size_t kMaxSettingsFileSize = 1024 * 1024;

// Reads the whole file with plain POSIX calls instead of readSettingsFile():
// that one uses std::ifstream, which drags libstdc++'s locale and iostream
// code into this module (statically linked, see CMakeLists.txt) and builds
// the global locale at the first use, in every imap-login process
// (docs/login-plugin.md, "Cost per login process").  Same messages.
bool readWholeFile(const std::string& path, std::string* text, std::string* error) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *error = path + ": cannot open: " + std::strerror(errno);
        return false;
    }
    struct stat st;
    bool ok = true;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        *error = path + ": is a directory";
        ok = false;
    }
    char buf[8192];
    while (ok) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            *error = path + ": read error: " + std::strerror(errno);
            ok = false;
        } else if (text->size() + static_cast<size_t>(n) > kMaxSettingsFileSize) {
            *error = path + ": larger than " + std::to_string(kMaxSettingsFileSize) + " octets";
            ok = false;
        } else {
            text->append(buf, static_cast<size_t>(n));
        }
    }
    close(fd);
    wipeBytes(buf, sizeof buf);  // the file's last octets, passwords included
    return ok;
}

}  // namespace

std::string settingsPathFromEnvironment() {
    const char* env = std::getenv(DREF_SETTINGS_ENV);
    return env != nullptr ? std::string(env) : std::string();
}

bool loadLoginPluginConfig(const std::string& path, LoginPluginConfig* out, std::string* error) {
    std::string text;
    SettingsFile file;
    const bool loaded = readWholeFile(path, &text, error) &&
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
