#include "process_secrets.h"

#include "settings.h"

namespace dref {

std::string mailProcessSettingsProblem(const Settings& settings) {
    if (settings.directory.passwordAttribute.empty()) return "";
    return settings.path +
           ": password_attribute is set (password mode): its ldap_bind_dn can read every "
           "user's password hash, and the mail processes must not hold that DN; give the imap "
           "plugin its own settings file without password_attribute, with a bind DN that "
           "cannot read " + settings.directory.passwordAttribute + " (docs/security.md §2)";
}

void wipeBytes(void* p, size_t n) {
    // A volatile store per octet: the compiler may not drop writes to
    // memory that is about to be released (explicit_bzero is glibc-only).
    volatile unsigned char* b = static_cast<unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) b[i] = 0;
}

void overwriteString(std::string* s) {
    if (!s->empty()) wipeBytes(&(*s)[0], s->size());
}

void wipeString(std::string* s) {
    overwriteString(s);
    s->clear();
    s->shrink_to_fit();
}

void forgetSettingsSecrets(Settings* settings) {
    wipeString(&settings->directory.bindPassword);
    wipeString(&settings->login.proxyMasterPassword);
    wipeString(&settings->mailbox.relayMasterPassword);
}

}  // namespace dref
