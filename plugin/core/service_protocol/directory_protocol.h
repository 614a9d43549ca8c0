#pragma once
// The line protocol between the imap plugin and the referral-directory
// service (docs/directory-service.md): one imap process asks for a user's
// remote mailboxes, the service answers from its cache or from LDAP.
//
// Plain C++, no Dovecot include, no I/O: encoders return bytes, and
// ProtocolReader turns received bytes into messages.  Everything read is
// untrusted (a peer that is not our program, a truncated stream): every
// line is bounded (kMaxLineBytes), every payload announces its size before
// it is read and is refused above the reader's limit, every field is checked
// before it is used, and the first error ends the stream for good.
//
// Version 1.  Every line is printable US-ASCII ended by LF, fields separated
// by one space, free-form values percent-encoded (pct_encoding.h):
//
//   both sides, first:  VERSION 1 <identity>
//   client -> service:  LOOKUP <id> <pct user>
//   client -> service:  PREFETCH <pct user>          (no answer; see below)
//   service -> client:  ANSWER <id> found|not-found|unavailable <age ms> <n>
//                       followed by exactly n payload octets
//
// <identity> is mailboxCacheIdentity() of the sender's directory settings
// (16 lower-case hex digits): a client whose settings differ from the
// service's does not use its answers.  <id> is the client's request number
// (decimal, 1..2^63-1); answers may come in any order.  The payload of found
// and not-found is the user's answer in the mailbox cache file format
// (remote_mailbox_cache_file.h: checked again by the client), of
// unavailable the reason (printable ASCII, at most kMaxReasonBytes).  <age
// ms> is how old the answer is (0 when the service just asked LDAP).
//
// PREFETCH (the auth process, right after it decided that a user who gave
// the right password is served here, docs/directory-service.md §6): the
// service starts the user's lookup unless it is cached or under way, and
// answers nothing; the imap process's LOOKUP that follows joins the lookup
// or finds its answer.  A peer that only prefetches never reads an answer.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace dref {

constexpr int kDirectoryProtocolVersion = 1;
constexpr size_t kDirectoryProtocolMaxLineBytes = 4096;
constexpr size_t kDirectoryProtocolMaxReasonBytes = 512;
constexpr size_t kDirectoryProtocolMaxUserBytes = 1024;
constexpr int64_t kDirectoryProtocolMaxAgeMs = int64_t(1) << 40;

enum class ServiceAnswerStatus { Found, NotFound, Unavailable };

struct ProtocolMessage {
    enum class Kind { Version, Lookup, Prefetch, Answer };
    Kind kind = Kind::Version;
    std::string identity;     // Version
    uint64_t id = 0;          // Lookup, Answer
    std::string user;         // Lookup, Prefetch (decoded)
    ServiceAnswerStatus status = ServiceAnswerStatus::Unavailable;  // Answer
    int64_t ageMs = 0;        // Answer
    std::string payload;      // Answer
};

std::string encodeVersionLine(std::string_view identity);
std::string encodeLookupLine(uint64_t id, std::string_view user);
std::string encodePrefetchLine(std::string_view user);
// The ANSWER line followed by the payload.  An unavailable reason is cut to
// kDirectoryProtocolMaxReasonBytes and every octet outside printable ASCII
// becomes '?', so the encoder never writes what the reader refuses.
std::string encodeAnswer(uint64_t id, ServiceAnswerStatus status, int64_t ageMs,
                         std::string_view payload);
// The ANSWER line alone, for a payload of payloadBytes octets sent right
// after it as it is: encodeAnswer is this line followed by the payload for
// found and not-found answers.  For a sender that writes a large payload
// from where it lies (1,000 remote mailboxes are 160 kB) instead of copying
// it into one message.  An unavailable reason goes through encodeAnswer,
// which cuts and cleans it.
std::string encodeAnswerLine(uint64_t id, ServiceAnswerStatus status, int64_t ageMs,
                             size_t payloadBytes);

class ProtocolReader {
public:
    enum class Peer {
        Client,   // the service reads a client: VERSION, then LOOKUP and PREFETCH
        Service,  // the client reads the service: VERSION, then ANSWER
    };
    // maxPayloadBytes bounds one ANSWER payload (the mailbox cache file
    // limit of the client's settings).
    ProtocolReader(Peer peer, size_t maxPayloadBytes);

    // Takes received bytes: complete lines are parsed as they arrive (a
    // message is then ready for next()), an ANSWER's payload goes straight
    // into its message.  False once the stream is broken; the messages
    // completed before the error are still returned by next().
    bool feed(std::string_view bytes);
    // The next complete message, in stream order: true and *out, or false
    // when none is complete (more bytes are needed, or the stream is broken:
    // failed()).
    bool next(ProtocolMessage* out);

    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }  // one log-safe line
    // Bytes received and not yet returned as a message (an ANSWER line
    // already read while its payload arrives is not counted; the payload is).
    size_t buffered() const {
        return buffer_.size() + readyBytes_ + (inPayload_ ? pending_.payload.size() : 0);
    }
    // The line buffer's allocation: it holds at most one unfinished line,
    // never a payload (a 160 kB answer read in one go does not pass through
    // it; issue 13 item 4).
    size_t lineBufferCapacity() const { return buffer_.capacity(); }

private:
    bool fail(std::string why);
    // One complete line (without its LF): a message queued, or an ANSWER
    // whose payload follows.
    bool takeLine(std::string_view line);
    bool parseLine(std::string_view line, ProtocolMessage* out);
    // The pending ANSWER's payload is complete: checked, then queued.
    bool finishPayload();
    void queue(ProtocolMessage&& m, size_t wireBytes);

    Peer peer_;
    size_t maxPayload_;
    // The start of a line whose LF has not arrived yet (at most
    // kDirectoryProtocolMaxLineBytes).  Complete lines are parsed straight
    // from the received bytes, and a payload never stays here: from its
    // ANSWER line on, its octets go straight into pending_.payload, so a
    // 160 kB answer is copied once from the socket's read buffer and never
    // moved again.
    std::string buffer_;
    bool sawVersion_ = false;
    bool inPayload_ = false;   // an ANSWER line was read, its payload not yet complete
    ProtocolMessage pending_;  // that ANSWER; its payload fills up to payloadBytes_
    size_t payloadBytes_ = 0;
    // Messages parsed and not yet returned, in stream order, and their wire
    // size (for buffered()).
    struct ReadyMessage {
        ProtocolMessage message;
        size_t wireBytes;
    };
    std::deque<ReadyMessage> ready_;
    size_t readyBytes_ = 0;
    std::string error_;
};

const char* serviceAnswerStatusName(ServiceAnswerStatus status);

}  // namespace dref
