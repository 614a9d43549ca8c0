#pragma once
// The referral passdb's prefetch hint to the referral-directory service
// (docs/directory-service.md §6): at a login it has decided to serve here,
// it tells the service to start the user's remote mailbox lookup, so that
// the directory works while Dovecot answers the login and starts the imap
// process.  Glue around DirectoryPrefetcher (ldap/directory): the socket on
// the auth process's ioloop, debug lines with the category "referral".
// Never blocks and never fails a login: every failure drops the hint.
// Dovecot glue: include only from files that wrap Dovecot headers in
// extern "C".
#include <memory>
#include <string>

#include "directory_prefetcher.h"
#include "settings.h"

struct io;

namespace dref {

class LoginPrefetch {
public:
    // nullptr when the settings ask for no prefetch: mailbox referrals off,
    // no service (mailbox_directory_service empty), mailbox_prefetch_at_login
    // = no, or mailbox_cache_dir set (the imap process reads its file).
    // baseDir: Dovecot's base_dir, for a socket name without '/'.
    static std::unique_ptr<LoginPrefetch> create(const Settings& settings,
                                                 const std::string& baseDir);
    ~LoginPrefetch();
    LoginPrefetch(const LoginPrefetch&) = delete;
    LoginPrefetch& operator=(const LoginPrefetch&) = delete;

    // The hint for `user` (the login name the imap process will ask for).
    void send(const std::string& user) noexcept;

private:
    LoginPrefetch() = default;
    void watch(int fd, bool wantWrite);
    static void onReadable(LoginPrefetch* self);
    static void onWritable(LoginPrefetch* self);

    std::unique_ptr<DirectoryPrefetcher> prefetcher_;
    struct event* event_ = nullptr;
    struct io* read_ = nullptr;
    struct io* write_ = nullptr;
};

}  // namespace dref
