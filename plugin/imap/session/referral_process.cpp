#include "referral_process.h"

#include <exception>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "dovecot_compat.h"
#include "dref_version.h"
#include "imap_glue.h"
#include "process_secrets.h"
#include "remote_mailbox_cache_file.h"
#include "response_text.h"

namespace dref {
namespace {

ReferralProcess* g_process = nullptr;
bool g_failed = false;  // logged once; later sessions run without referrals
std::string g_failedPath;

// mailbox_directory_service as a socket path: a name without '/' lives in
// Dovecot's base_dir, like the sockets of Dovecot's own services.
std::string servicePath(const Settings& settings, struct mail_user* user) {
    const std::string& s = settings.mailbox.directoryService;
    if (s.empty() || s.front() == '/') return s;
    const char* base = user->set != nullptr ? user->set->base_dir : nullptr;
    // base_dir always has a value (Dovecot defaults it); the fallback is
    // only for a settings struct without one.
    return std::string(base != nullptr && *base != '\0' ? base : "/run/dovecot") + "/" + s;
}

}  // namespace

ReferralProcess::~ReferralProcess() {
    service_.reset();  // its watch callback removes the service ios
    if (serviceRead_ != nullptr) io_remove(&serviceRead_);
    if (serviceWrite_ != nullptr) io_remove(&serviceWrite_);
    if (directoryIo_ != nullptr) io_remove(&directoryIo_);
}

void ReferralProcess::onDirectoryReadable(void* context) {
    auto* self = static_cast<ReferralProcess*>(context);
    guarded("directory callback", [self] { self->directory_->process(); });
}

void ReferralProcess::onServiceReadable(void* context) {
    auto* self = static_cast<ReferralProcess*>(context);
    guarded("directory service callback", [self] { self->service_->onReadable(); });
}

void ReferralProcess::onServiceWritable(void* context) {
    auto* self = static_cast<ReferralProcess*>(context);
    guarded("directory service output", [self] { self->service_->onWritable(); });
}

void ReferralProcess::watchService(int fd, bool wantWrite) {
    if (serviceRead_ != nullptr) io_remove(&serviceRead_);
    if (serviceWrite_ != nullptr) io_remove(&serviceWrite_);
    if (fd < 0) return;
    serviceRead_ = io_add(fd, IO_READ, onServiceReadable, this);
    if (wantWrite) serviceWrite_ = io_add(fd, IO_WRITE, onServiceWritable, this);
}

Directory* ReferralProcess::directory(struct event* event) {
    if (directory_ || directoryFailed_) return directory_.get();
    // No mailbox answers in the directory's cache: each session's table is
    // the cache (refreshed per cache_ttl), and keeping the raw answer too
    // would hold every remote entry twice in this process.
    DirectoryOptions options;
    options.cacheMailboxes = false;
    // The directory's worker thread parses LDAP answers; in a thread arena
    // of its own, a large answer freed after the table is built stays at the
    // top of that arena's heap, which malloc_trim() does not give back (only
    // the main arena's top is trimmed): measured 551 bytes per remote entry
    // on Debian 13 instead of 72.  The imap process has no other thread, so
    // one arena costs no contention.
#ifdef __GLIBC__
    mallopt(M_ARENA_MAX, 1);
#endif
    std::string error;
    directory_ = Directory::create(*settings_, &error, options);
    if (!directory_) {
        e_error(event, "dovecot-referral imap plugin: %s: directory: %s; mailbox referrals "
                       "disabled",
                path_.c_str(), error.c_str());
        directoryFailed_ = true;
        return nullptr;
    }
    directoryIo_ = io_add(directory_->eventFd(), IO_READ, onDirectoryReadable, this);
    return directory_.get();
}

uint64_t ReferralProcess::askDirectory(uint64_t id, const std::string& user, struct event* event,
                                       MailboxCallback callback) {
    Directory* d = directory(event);
    if (d == nullptr) return 0;
    Lookup& l = lookups_[id];
    l.viaService = false;
    l.innerId = d->lookupRemoteMailboxes(user, [this, id, cb = std::move(callback)](
                                                   MailboxLookupResult&& r) {
        lookups_.erase(id);
        cb(std::move(r));
    });
    return id;
}

uint64_t ReferralProcess::lookupMailboxes(const std::string& user, struct event* event,
                                          MailboxCallback callback,
                                          DirectoryServiceClient::TableBuilderFn makeBuilder) {
    const uint64_t id = nextId_++;
    if (!service_) return askDirectory(id, user, event, std::move(callback));
    ServiceReply failure;
    auto onReply = [this, id, user, event, callback](ServiceReply&& reply) {
        if (reply.kind == ServiceReply::Kind::Answer) {
            lookups_.erase(id);
            callback(std::move(reply.result));
            return;
        }
        // The session's event outlives its lookups: cancel() runs before
        // the session's glue (and its event) goes away.
        e_warning(event, "remote mailboxes: referral-directory service: %s; asking the "
                         "directory from this process",
                  quoteForLog(reply.error, 300).c_str());
        if (askDirectory(id, user, event, callback) == 0) {
            lookups_.erase(id);
            MailboxLookupResult r;
            r.status = DirectoryStatus::Unavailable;
            r.error = "neither the referral-directory service nor the directory could be asked";
            callback(std::move(r));
        }
    };
    const uint64_t inner = service_->lookup(user, onReply, &failure, std::move(makeBuilder));
    if (inner != 0) {
        lookups_[id] = Lookup{true, inner};
        return id;
    }
    if (failure.kind == ServiceReply::Kind::NoService)
        e_debug(event, "remote mailboxes: no referral-directory service (%s); asking the "
                       "directory from this process",
                quoteForLog(failure.error, 300).c_str());
    else
        e_warning(event, "remote mailboxes: referral-directory service: %s; asking the "
                         "directory from this process",
                  quoteForLog(failure.error, 300).c_str());
    return askDirectory(id, user, event, std::move(callback));
}

void ReferralProcess::cancel(uint64_t id) {
    auto it = lookups_.find(id);
    if (it == lookups_.end()) return;
    const Lookup l = it->second;
    lookups_.erase(it);
    if (l.viaService) {
        if (service_) service_->cancel(l.innerId);
    } else if (directory_) {
        directory_->cancel(l.innerId);
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
                quoteForLog(user->username).c_str(), compat::referralConfigSettingName(),
                error.c_str());
        return nullptr;
    }
    if (g_process != nullptr) {
        if (g_process->path_ != path) {
            // One directory per process: a second settings file in the same
            // process (service_count > 1 with per-user plugin settings) is a
            // configuration error worth saying out loud, not guessing about.
            i_error("dovecot-referral: user %s: %s %s differs from %s used by this "
                    "process; mailbox referrals disabled for this session",
                    quoteForLog(user->username).c_str(), compat::referralConfigSettingName(),
                    path.c_str(),
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
    const std::string problem = mailProcessSettingsProblem(*settings);
    if (!problem.empty()) {
        forgetSettingsSecrets(settings.get());
        i_error("dovecot-referral imap plugin: %s; mailbox referrals disabled", problem.c_str());
        g_failed = true;
        g_failedPath = path;
        return nullptr;
    }
    auto* p = new ReferralProcess();
    p->path_ = path;
    p->settings_ = settings;
    if (settings->mailbox.enabled && !settings->mailbox.directoryService.empty()) {
        MailboxCacheLimits limits;
        limits.maxEntries = settings->directory.mailboxMaxEntries;
        p->service_ = std::make_unique<DirectoryServiceClient>(
            servicePath(*settings, user), mailboxCacheIdentity(settings->directory), limits,
            [p](int fd, bool wantWrite) { p->watchService(fd, wantWrite); });
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
