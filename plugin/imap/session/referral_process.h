#pragma once
// What the imap plugin keeps once per imap process: the settings and where
// remote mailbox answers come from.  With mailbox_directory_service (the
// default) that is the machine's referral-directory service, asked over its
// UNIX socket (docs/directory-service.md); without it, or while the service
// cannot be asked, one Directory (one LDAP connection) of this process,
// created when first needed.  Their descriptors are attached to Dovecot's
// ioloop.  Created at the first session, after Dovecot dropped privileges to
// the mail user: the settings file (and any CA file) must be readable by
// that uid.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "directory.h"
#include "directory_service_client.h"
#include "settings.h"

struct event;
struct io;
struct mail_user;

namespace dref {

class ReferralProcess {
public:
    // The process-wide instance for this user's settings path
    // (compat::referralConfigPath: plugin { referral_config } on 2.3, the
    // referral_config setting on 2.4, else DREF_DEFAULT_SETTINGS_FILE).  nullptr
    // when the settings cannot be loaded; the error is logged once per
    // process and the session runs without mailbox referrals.
    static ReferralProcess* forUser(struct mail_user* user);
    static void shutdown();

    const std::shared_ptr<const Settings>& settings() const { return settings_; }

    using MailboxCallback = std::function<void(MailboxLookupResult&&)>;
    // The user's remote mailboxes: from the service, or from this process's
    // own directory when no service is configured or the service fails
    // (logged on `event`).  The callback never runs inside this call.  0 when
    // neither can be asked (the directory could not be set up; logged).
    // With makeBuilder, the service's Found answer comes as the result's
    // table (DirectoryServiceClient::lookup); the process's own directory
    // always gives `mailboxes`.
    uint64_t lookupMailboxes(const std::string& user, struct event* event,
                             MailboxCallback callback,
                             DirectoryServiceClient::TableBuilderFn makeBuilder = nullptr);
    void cancel(uint64_t id);

private:
    struct Lookup {
        bool viaService = false;
        uint64_t innerId = 0;
    };
    ReferralProcess() = default;
    ~ReferralProcess();
    Directory* directory(struct event* event);
    uint64_t askDirectory(uint64_t id, const std::string& user, struct event* event,
                          MailboxCallback callback);
    void watchService(int fd, bool wantWrite);
    static void onDirectoryReadable(void* context);
    static void onServiceReadable(void* context);
    static void onServiceWritable(void* context);

    std::string path_;
    std::shared_ptr<const Settings> settings_;
    std::unique_ptr<Directory> directory_;
    bool directoryFailed_ = false;
    std::unique_ptr<DirectoryServiceClient> service_;
    std::unordered_map<uint64_t, Lookup> lookups_;
    uint64_t nextId_ = 1;
    struct io* directoryIo_ = nullptr;
    struct io* serviceRead_ = nullptr;
    struct io* serviceWrite_ = nullptr;
};

}  // namespace dref
