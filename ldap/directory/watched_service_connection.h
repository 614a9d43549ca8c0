#pragma once
// One connection to the referral-directory service's UNIX socket as its
// owner's event loop sees it: the channel, the reader of what the service
// sends, and the watch on the descriptor, kept in step with them (read,
// and write while bytes wait).  The imap plugin's lookups
// (DirectoryServiceClient) and the auth process's prefetch hints
// (DirectoryPrefetcher) each keep one.  No Dovecot include.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "directory_protocol.h"
#include "socket_channel.h"

namespace dref {

class WatchedServiceConnection {
public:
    // fd < 0: stop watching; otherwise watch fd for reading, and for writing
    // when wantWrite.
    using WatchFn = std::function<void(int fd, bool wantWrite)>;

    explicit WatchedServiceConnection(WatchFn watch);
    ~WatchedServiceConnection();  // close()
    WatchedServiceConnection(const WatchedServiceConnection&) = delete;
    WatchedServiceConnection& operator=(const WatchedServiceConnection&) = delete;

    // Takes `fd`, a socket connected to the service (connectUnixStream()),
    // reads the service's messages with ANSWER payloads up to
    // maxPayloadBytes, and sends this process's VERSION line for
    // `identity`.  False with *error (the channel's line) when that send
    // failed: the connection is closed again.  Not watched until
    // updateWatch().
    bool open(int fd, size_t maxPayloadBytes, const std::string& identity, std::string* error);

    // The watch goes before the descriptor is closed: an event loop must
    // not be left watching a closed (or reused) descriptor.  Nothing to do
    // when not open.
    void close();

    // Tells the watch the descriptor and whether bytes wait to be written,
    // when either changed since it was last told (-1 once closed).
    void updateWatch();

    bool isOpen() const { return channel_ != nullptr; }
    // nullptr when not open.
    SocketChannel* channel() const { return channel_.get(); }
    ProtocolReader* reader() const { return reader_.get(); }

private:
    WatchFn watch_;
    std::unique_ptr<SocketChannel> channel_;
    std::unique_ptr<ProtocolReader> reader_;
    int watchedFd_ = -1;
    bool watchedWrite_ = false;
};

}  // namespace dref
