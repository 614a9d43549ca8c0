#pragma once
// One non-blocking stream socket carrying the directory service protocol
// (directory_protocol.h), for both ends: the imap plugin's client and the
// referral-directory service.  Owns the descriptor; never blocks: what the
// socket does not take now stays queued until the owner's event loop says
// the socket is writable.  No Dovecot include: the glue attaches fd() to
// its ioloop, tests use poll().
#include <string>
#include <string_view>

#include "directory_protocol.h"

namespace dref {

// Connects a non-blocking stream socket to the UNIX socket at `path` (a
// UNIX stream connect completes or fails at once; EAGAIN means the
// listener's backlog is full, a failure to reach it now).  The descriptor,
// or -1 with *error (one line) and *errnoOut (0 when the path itself is
// unusable).
int connectUnixStream(const std::string& path, std::string* error, int* errnoOut);

class SocketChannel {
public:
    explicit SocketChannel(int fd);  // takes the descriptor, makes it non-blocking
    ~SocketChannel();
    SocketChannel(const SocketChannel&) = delete;
    SocketChannel& operator=(const SocketChannel&) = delete;

    int fd() const { return fd_; }

    // Queues bytes and writes what the socket takes now.  False on a write
    // error (*error: one line); the channel is then unusable.
    bool send(std::string_view bytes, std::string* error);
    // The same for `head` followed by `body`, written from where they lie
    // when nothing is queued: only what the socket does not take now is
    // copied into the queue (a 160 kB answer is not copied once more
    // before the kernel copies it).
    bool send(std::string_view head, std::string_view body, std::string* error);
    // Writes queued bytes (the socket became writable).
    bool flush(std::string* error);
    bool wantsWrite() const { return sent_ < out_.size(); }
    // Bytes queued and not yet taken by the socket.
    size_t queuedBytes() const { return out_.size() - sent_; }

    enum class ReadStatus { Ok, Closed, Error };
    // Reads everything available now into the reader (at most maxBytes per
    // call, so one peer cannot hold the loop).  Closed: the peer closed its
    // end; Error: *error.
    ReadStatus readInto(ProtocolReader* reader, std::string* error, size_t maxBytes = 1 << 20);

private:
    int fd_;
    std::string out_;
    size_t sent_ = 0;
};

}  // namespace dref
