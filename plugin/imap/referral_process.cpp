#include "referral_process.h"

#include <exception>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "dovecot_compat.h"
#include "dref_version.h"

namespace dref {
namespace {

ReferralProcess* g_process = nullptr;
bool g_failed = false;  // logged once; later sessions run without referrals
std::string g_failedPath;

}  // namespace

ReferralProcess::~ReferralProcess() {
    if (io_ != nullptr) io_remove(&io_);
}

void ReferralProcess::onReadable(void* context) {
    auto* self = static_cast<ReferralProcess*>(context);
    try {
        self->directory_->process();
    } catch (const std::exception& e) {
        i_error("dovecot-referral: directory callback failed: %s", e.what());
    } catch (...) {
        i_error("dovecot-referral: directory callback failed");
    }
}

ReferralProcess* ReferralProcess::forUser(struct mail_user* user) {
    std::string path;
    std::string error;
    if (!compat::referralConfigPath(user, &path, &error)) {
        // Dovecot's own settings, for this user's filters: nothing of ours
        // was loaded, so nothing is remembered for later sessions.
        i_error("dovecot-referral imap plugin: user %s: %s: %s; mailbox referrals disabled "
                "for this session",
                user->username, compat::referralConfigSettingName(), error.c_str());
        return nullptr;
    }
    if (g_process != nullptr) {
        if (g_process->path_ != path) {
            // One directory per process: a second settings file in the same
            // process (service_count > 1 with per-user plugin settings) is a
            // configuration error worth saying out loud, not guessing about.
            i_error("dovecot-referral: user %s: %s %s differs from %s used by this "
                    "process; mailbox referrals disabled for this session",
                    user->username, compat::referralConfigSettingName(), path.c_str(),
                    g_process->path_.c_str());
            return nullptr;
        }
        return g_process;
    }
    if (g_failed && g_failedPath == path) return nullptr;

    auto settings = std::make_shared<Settings>();
    if (!loadSettingsFromPath(path, settings.get(), &error)) {
        i_error("dovecot-referral imap plugin: %s (the settings file must be readable by the "
                "mail user, uid %ld); mailbox referrals disabled",
                error.c_str(), static_cast<long>(geteuid()));
        g_failed = true;
        g_failedPath = path;
        return nullptr;
    }
    auto* p = new ReferralProcess();
    p->path_ = path;
    p->settings_ = settings;
    if (settings->mailbox.enabled) {
        // No mailbox answers in the directory's cache: each session's table
        // is the cache (refreshed per cache_ttl), and keeping the raw answer
        // too would hold every remote entry twice in this process.
        DirectoryOptions options;
        options.cacheMailboxes = false;
        // The directory's worker thread parses LDAP answers; in a thread
        // arena of its own, a large answer freed after the table is built
        // stays at the top of that arena's heap, which malloc_trim() does not
        // give back (only the main arena's top is trimmed): measured 551
        // bytes per remote entry on Debian 13 instead of 72.  The imap
        // process has no other thread, so one arena costs no contention.
#ifdef __GLIBC__
        mallopt(M_ARENA_MAX, 1);
#endif
        p->directory_ = Directory::create(*settings, &error, options);
        if (!p->directory_) {
            i_error("dovecot-referral imap plugin: %s: directory: %s; mailbox referrals disabled",
                    path.c_str(), error.c_str());
            delete p;
            g_failed = true;
            g_failedPath = path;
            return nullptr;
        }
        p->io_ = io_add(p->directory_->eventFd(), IO_READ, onReadable, p);
    }
    g_process = p;
    e_debug(user->event, "dovecot-referral " DREF_VERSION " imap plugin: settings %s",
            path.c_str());
    return g_process;
}

void ReferralProcess::shutdown() {
    delete g_process;
    g_process = nullptr;
}

}  // namespace dref
