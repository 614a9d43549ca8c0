extern "C" {
#include "auth-common.h"
#include "ioloop.h"
}

#include <exception>

#include "login_prefetch.h"
#include "remote_mailbox_cache_file.h"

namespace dref {
namespace {

struct event_category g_prefetchCategory = {nullptr, "referral", nullptr};

// Nothing leaves into Dovecot's frames; std::bad_alloc drops the hint and
// the login goes on.
template <typename F>
void guarded(F&& f) noexcept {
    try {
        f();
    } catch (const std::exception& e) {
        i_error("passdb referral: directory prefetch: %s", e.what());
    } catch (...) {
        i_error("passdb referral: directory prefetch failed");
    }
}

}  // namespace

std::unique_ptr<LoginPrefetch> LoginPrefetch::create(const Settings& settings,
                                                     const std::string& baseDir) {
    const MailboxSettings& m = settings.mailbox;
    if (!m.enabled || !m.prefetchAtLogin || m.directoryService.empty() || !m.cacheDir.empty())
        return nullptr;
    // The imap plugin's rule (referral_process.cpp): a name without '/'
    // lives in base_dir, like the sockets of Dovecot's own services.
    std::string path = m.directoryService;
    if (path.front() != '/') path = (baseDir.empty() ? std::string("/run/dovecot") : baseDir) + "/" + path;
    std::unique_ptr<LoginPrefetch> p(new LoginPrefetch());
    LoginPrefetch* self = p.get();
    p->event_ = event_create(nullptr);
    event_add_category(p->event_, &g_prefetchCategory);
    p->prefetcher_ = std::make_unique<DirectoryPrefetcher>(
        path, mailboxCacheIdentity(settings.directory),
        [self](int fd, bool wantWrite) { self->watch(fd, wantWrite); },
        [self](const std::string& line) { e_debug(self->event_, "%s", line.c_str()); });
    return p;
}

LoginPrefetch::~LoginPrefetch() {
    prefetcher_.reset();  // its watch callback removes the ios
    if (read_ != nullptr) io_remove(&read_);
    if (write_ != nullptr) io_remove(&write_);
    if (event_ != nullptr) event_unref(&event_);
}

void LoginPrefetch::watch(int fd, bool wantWrite) {
    if (read_ != nullptr) io_remove(&read_);
    if (write_ != nullptr) io_remove(&write_);
    if (fd < 0) return;
    read_ = io_add(fd, IO_READ, onReadable, this);
    if (wantWrite) write_ = io_add(fd, IO_WRITE, onWritable, this);
}

void LoginPrefetch::onReadable(LoginPrefetch* self) {
    guarded([self] { self->prefetcher_->onReadable(); });
}

void LoginPrefetch::onWritable(LoginPrefetch* self) {
    guarded([self] { self->prefetcher_->onWritable(); });
}

void LoginPrefetch::send(const std::string& user) noexcept {
    guarded([this, &user] { prefetcher_->prefetch(user); });
}

}  // namespace dref
