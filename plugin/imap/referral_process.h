#pragma once
// What the imap plugin keeps once per imap process: the settings and one
// Directory (one LDAP connection) shared by every session of the process,
// its event descriptor attached to Dovecot's ioloop.  Created at the first
// session, after Dovecot dropped privileges to the mail user: the settings
// file (and any CA file) must be readable by that uid.
#include <memory>
#include <string>

#include "directory.h"
#include "settings.h"

struct io;
struct mail_user;

namespace dref {

class ReferralProcess {
public:
    // The process-wide instance for this user's settings path
    // (compat::referralConfigPath: plugin { referral_config } on 2.3, the
    // referral_config setting on 2.4, else DREF_DEFAULT_SETTINGS_FILE).  nullptr
    // when the settings cannot be loaded or the directory cannot be set up;
    // the error is logged once per process and the session runs without
    // mailbox referrals.
    static ReferralProcess* forUser(struct mail_user* user);
    static void shutdown();

    const std::shared_ptr<const Settings>& settings() const { return settings_; }
    Directory& directory() { return *directory_; }

private:
    ReferralProcess() = default;
    ~ReferralProcess();
    static void onReadable(void* context);

    std::string path_;
    std::shared_ptr<const Settings> settings_;
    std::unique_ptr<Directory> directory_;
    struct io* io_ = nullptr;
};

}  // namespace dref
