#pragma once
// The referral passdb of one settings file: owns the Directory of the auth
// process (created at the first lookup, so auth-worker processes and
// processes that never see a login open no LDAP connection), runs lookups
// without blocking the ioloop and answers Dovecot's passdb callbacks.
// Dovecot glue: include only from files that wrap Dovecot headers in
// extern "C".
#include <memory>
#include <string>
#include <unordered_set>

#include "directory.h"
#include "login_prefetch.h"
#include "passdb_reply.h"
#include "settings.h"

struct auth_request;
struct io;

namespace dref {

struct PendingLookup;
struct StoredPasswordParts;

class ReferralPassdb {
public:
    explicit ReferralPassdb(Settings settings);
    ~ReferralPassdb();
    ReferralPassdb(const ReferralPassdb&) = delete;
    ReferralPassdb& operator=(const ReferralPassdb&) = delete;

    // `plainCallback` / `credentialsCallback`: Dovecot's verify_plain_callback_t
    // / lookup_credentials_callback_t, kept as void* so this header needs no
    // Dovecot include.  Exactly one is non-null.
    void start(struct auth_request* request, void* plainCallback, void* credentialsCallback);

    // Fails every pending lookup (auth process shutting down).
    void shutdown();

    const Settings& settings() const { return settings_; }

    // password_attribute is set (docs/login-referrals.md §1.6).
    bool passwordMode() const;

private:
    bool ensureDirectory(std::string* error);
    // Password mode (password_mode.cpp), verify_plain: checks the client's
    // password against the record.  true: accepted, go on to the decision.
    // false: answered (a failed login, no referral fields) or the directory
    // asked again (finish() runs once more with its answer).
    bool passwordAccepted(const std::shared_ptr<PendingLookup>& p, const UserLookupResult& result);
    // Password mode (password_mode.cpp), lookup_credentials: the stored
    // password for the mechanism, in *stored when the entry has a usable
    // one (*haveStored; else Dovecot refuses the mechanism, with our
    // warning for a refused value).  true: go on to the decision.  false:
    // answered (unknown user).
    bool credentialsLookup(const std::shared_ptr<PendingLookup>& p, const UserLookupResult& result,
                           StoredPasswordParts* stored, bool* haveStored);
    // The decision and the answer for `result`, which may be the
    // directory cache's own entry (cachedUser()): read only, and not after
    // the answer, whose callback may call into the directory again.
    void finish(const std::shared_ptr<PendingLookup>& p, const UserLookupResult& result);
    // finish() for an answer this login owns (the directory's callback),
    // whose copy of a stored password is overwritten afterwards.
    void finishAndWipe(const std::shared_ptr<PendingLookup>& p, UserLookupResult&& result);
    // The service's prefetch of the user's remote mailboxes (login_prefetch.h)
    // for a login served here whose password was checked.
    void prefetchMailboxes(const PendingLookup& p) noexcept;
    static void onDirectoryReadable(ReferralPassdb* self);

    Settings settings_;
    // Of settings_.login, prepared once; holds the process's one copy of
    // proxy_master_password (settings_'s is wiped).
    const ReplySettings replySettings_;
    std::unique_ptr<Directory> directory_;
    struct io* io_ = nullptr;
    std::unordered_set<std::shared_ptr<PendingLookup>> pending_;
    std::unique_ptr<LoginPrefetch> prefetch_;  // made at the first prefetch
    bool prefetchSetUp_ = false;
};

}  // namespace dref
