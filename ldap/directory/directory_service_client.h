#pragma once
// The imap plugin's side of the referral-directory service
// (docs/directory-service.md): asks the service for a user's remote
// mailboxes over its UNIX socket instead of asking LDAP itself, so that the
// imap processes of a machine share one LDAP connection and one cache.
//
// Non-blocking throughout: the connect() of a UNIX socket completes or fails
// at once, writes that the socket does not take are queued, answers arrive
// through onReadable().  The owner's event loop watches fd() (the watch
// callback says when the descriptor or the wish to write changes).  The
// connection exists only while requests are outstanding: the service's
// client slots are not held by idle imap sessions.
//
// Everything the service sends is checked again (directory_protocol.h, and
// the payload with the mailbox cache file decoder): a service that is not
// ours, or a damaged answer, is a failure, never a wrong table.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "directory.h"
#include "remote_mailbox_cache_file.h"
#include "watched_service_connection.h"

namespace dref {

struct ServiceReply {
    enum class Kind {
        Answer,      // `result` is the service's answer (Found, NotFound or Unavailable)
        NoService,   // the socket does not exist: no service is configured
        Failed,      // the service could not be asked (refused, closed, bad answer)
    };
    Kind kind = Kind::Failed;
    MailboxLookupResult result;  // Answer
    std::string error;           // NoService, Failed: one log-safe line
};

class DirectoryServiceClient {
public:
    using WatchFn = WatchedServiceConnection::WatchFn;
    using Callback = std::function<void(ServiceReply&&)>;
    // Makes the builder a Found answer is decoded into, when it arrives
    // (the table's separator and target checks are the session's, known by
    // then); its warnings go to *warnings.  nullptr: the answer is decoded
    // into result.mailboxes instead.
    using TableBuilderFn = std::function<std::unique_ptr<RemoteMailboxTable::Builder>(
        std::vector<std::string>* warnings)>;

    // socketPath: the service's UNIX socket; identity: mailboxCacheIdentity()
    // of this process's directory settings; limits: bound of one answer.
    DirectoryServiceClient(std::string socketPath, std::string identity,
                           MailboxCacheLimits limits, WatchFn watch);
    ~DirectoryServiceClient();

    // Starts a lookup.  The callback never runs inside this call: when the
    // service cannot be reached now, the result is 0 and *failure says why
    // (NoService or Failed).
    // With makeBuilder, a Found answer comes as result.table (decoded
    // straight into it, with every check) instead of result.mailboxes.
    uint64_t lookup(const std::string& user, Callback callback, ServiceReply* failure,
                    TableBuilderFn makeBuilder = nullptr);
    void cancel(uint64_t id);

    void onReadable();
    void onWritable();

    const std::string& socketPath() const { return path_; }

private:
    struct Pending {
        std::string user;
        Callback callback;
        TableBuilderFn makeBuilder;
    };
    using Ready = std::vector<std::pair<Callback, ServiceReply>>;
    bool connect(ServiceReply* failure);
    // Every outstanding request as failed with `why` (into *ready), and the
    // connection closed.
    void takeFailed(const std::string& why, Ready* ready);
    static void deliver(Ready* ready);
    ServiceReply toReply(const Pending& p, ProtocolMessage&& m) const;

    std::string path_;
    std::string identity_;
    MailboxCacheLimits limits_;
    WatchedServiceConnection connection_;
    bool versionSeen_ = false;
    std::map<uint64_t, Pending> pending_;
    uint64_t nextId_ = 1;
};

}  // namespace dref
