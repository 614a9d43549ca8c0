// libFuzzer target: the settings file parser and typed loader
// (dref::parseSettingsText + dref::loadSettings), which every process runs
// at start-up on an administrator's file.
// Invariants: a refusal is one log-safe line naming the file; an accepted
// file yields the required keys, wire-safe response texts and a drain host
// the URL builder accepts.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "imap_url.h"
#include "response_text.h"
#include "settings.h"
#include "settings_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace dref;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    SettingsFile file;
    std::string error;
    if (!parseSettingsText(text, "fuzz.conf", &file, &error)) {
        DREF_FUZZ_CHECK(!error.empty() && fuzz::isLogSafe(error), error);
        DREF_FUZZ_CHECK(error.rfind("fuzz.conf", 0) == 0, error);
        return 0;
    }
    for (const SettingLine& line : file.lines) {
        DREF_FUZZ_CHECK(!line.key.empty() && line.line > 0, line.key);
        DREF_FUZZ_CHECK(line.key.find_first_of(std::string("\r\n\0", 3)) == std::string::npos,
                        line.key);
        DREF_FUZZ_CHECK(line.value.find_first_of(std::string("\n\0", 2)) == std::string::npos,
                        line.value);
    }
    Settings settings;
    error.clear();
    if (!loadSettings(file, &settings, &error)) {
        DREF_FUZZ_CHECK(!error.empty() && fuzz::isLogSafe(error), error);
        DREF_FUZZ_CHECK(error.rfind("fuzz.conf", 0) == 0, error);
        return 0;
    }
    DREF_FUZZ_CHECK(!settings.directory.uris.empty(), "ldap_uris");
    DREF_FUZZ_CHECK(!settings.directory.userBase.empty(), "user_base");
    DREF_FUZZ_CHECK(isWireSafeText(settings.login.referralText), settings.login.referralText);
    DREF_FUZZ_CHECK(isWireSafeText(settings.login.drainText), settings.login.drainText);
    DREF_FUZZ_CHECK(isWireSafeText(settings.mailbox.referralText), settings.mailbox.referralText);
    DREF_FUZZ_CHECK(settings.directory.timeoutMs >= 0 && settings.directory.connectTimeoutMs >= 0,
                    "timeouts");
    if (!settings.login.drainHost.empty()) {
        ImapUrlParts drain;
        drain.host = settings.login.drainHost;
        drain.port = settings.login.drainPort;
        std::string buildError;
        auto url = buildImapUrl(drain, &buildError);
        DREF_FUZZ_CHECK(url && fuzz::isReferralUrlSafe(*url), drain.host + " " + buildError);
    }
    return 0;
}
