#pragma once
// Asynchronous directory client on the OpenLDAP C library.
//
// It never blocks its caller.  libldap's connect, bind and TLS handshake are
// blocking calls, so they run on one worker thread owned by the client; the
// worker pipelines searches (ldap_search_ext + ldap_result) and hands each
// finished result back through a completion queue.  The caller's event loop
// watches eventFd() for readability and calls process(), which runs the
// callbacks on the caller's thread.  Dovecot's glue attaches the descriptor
// with io_add(); tests use poll().  The worker never calls back into the
// caller and never touches caller memory.
//
// With ClientSettings::searchOnCallerThread the worker only connects (the
// blocking part): it lends each established connection, made non-blocking,
// to the caller's thread, which then sends its searches from search() and
// reads and times them out from process(), as an event loop's own LDAP
// client does, with no thread hand-off per search.  eventFd() is then an
// epoll descriptor that is readable when the connection, a search's
// deadline or the worker wants process().  A lost connection goes back to
// the worker with the searches still pending (sent again after the
// reconnect, as in the worker's own case).
//
// Failover: URIs are tried in order; a connection failure moves to the next
// URI, and after all have failed the client waits with exponential backoff
// (capped) before the next round.  Searches queued meanwhile fail with
// Unavailable once their deadline passes (at once when the next attempt
// comes after it); they are never silently dropped.  A connection on which
// nothing arrives for a whole timeoutMs while a search waits is considered
// hung and dropped (the next URI is tried first).
//
// Do not destroy a Client from inside one of its callbacks.
// LDAP referrals are not chased unless configured (D-20).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dref::ldap {

struct ClientSettings {
    std::vector<std::string> uris;  // ldap://, ldaps://, ldapi://
    std::string bindDn;
    std::string bindPassword;
    std::string saslMech;           // "" (simple bind) or "EXTERNAL"
    bool startTls = false;          // require StartTLS on ldap:// URIs
    std::string tlsCaFile;
    std::string tlsRequireCert = "demand";
    int connectTimeoutMs = 3000;
    int timeoutMs = 2000;           // per search, from submission to result
    int backoffMinMs = 100;
    int backoffMaxMs = 30000;
    bool chaseReferrals = false;
    // Searches sent and read on the caller's thread while connected (see
    // above): for a caller whose searches are small and many (the auth
    // process, one per cold login), where the two thread hand-offs cost
    // more than the search.  Off: the worker does everything, and an
    // EntryConsumer's work on a large answer overlaps with its arrival.
    bool searchOnCallerThread = false;
};

enum class Scope { Base, OneLevel, Subtree };

struct Entry;

// Takes a search's entries one by one on the client's worker thread, as they
// arrive, instead of SearchResult::entries collecting them for the caller's
// thread: work per entry (validating, mapping) then overlaps with the
// server still sending the rest, and is not all left for after the last one
// (issue 13 item 4: 1,000 remote mailboxes).  It must touch nothing but its
// own members; the caller reads those only from the search's callback,
// which runs after the last take() (the completion queue's mutex orders
// them).  It may throw only std::bad_alloc (the worker then fails).
class EntryConsumer {
public:
    virtual ~EntryConsumer() = default;
    virtual void take(Entry&& entry) = 0;
    // The connection was lost mid-search: the search is sent again on the
    // next connection, so everything taken so far is forgotten.
    virtual void restart() = 0;
};

struct SearchRequest {
    std::string base;
    Scope scope = Scope::Subtree;
    std::string filter;                  // already escaped (see escapeFilterValue)
    std::vector<std::string> attributes; // empty = all user attributes
    int sizeLimit = 0;                   // 0 = server default
    // When set, every entry goes to the consumer (on the worker thread) and
    // SearchResult::entries stays empty.
    std::shared_ptr<EntryConsumer> consumer;
};

struct Entry {
    std::string dn;
    // Attribute names as the server returned them, lowercased; values are raw
    // octets (may contain NUL, CR, LF: callers validate).
    std::map<std::string, std::vector<std::string>> attributes;

    // First value of an attribute (name matched case-insensitively), or nullptr.
    const std::vector<std::string>* values(std::string_view name) const;
    std::vector<std::string>* values(std::string_view name);  // for moving values out
};

enum class ResultStatus {
    Ok,           // search completed (zero or more entries)
    NoSuchObject, // the base DN does not exist (rc 32): treated as "no entries"
    Timeout,      // no answer within timeoutMs
    Unavailable,  // no server reachable / connection lost and not recovered in time
    Error,        // the server answered with another error (bad filter, size limit ...)
    Cancelled,    // cancel() or client destroyed before completion
};

struct SearchResult {
    ResultStatus status = ResultStatus::Ok;
    std::string error;            // one line, empty when Ok
    std::vector<Entry> entries;
    std::string server;           // URI that answered (for logs)
    int64_t elapsedUs = 0;
    // The server stopped at SearchRequest::sizeLimit (rc 4): status is Error
    // and `entries` holds what arrived before the limit.
    bool sizeLimitExceeded = false;
};

const char* resultStatusName(ResultStatus s);

using SearchCallback = std::function<void(SearchResult&&)>;

struct ClientStats {
    uint64_t connects = 0;     // successful connections (each one binds once)
    uint64_t binds = 0;
    uint64_t searches = 0;     // searches sent to a server
    uint64_t failovers = 0;    // moves to the next URI
    uint64_t timeouts = 0;
};

class Client {
public:
    // Validates settings (URIs parse, timeouts positive) and starts the worker.
    // It does not connect yet: the first search does.
    static std::unique_ptr<Client> create(const ClientSettings& settings, std::string* error);
    virtual ~Client() = default;  // joins the worker; pending callbacks are not run

    // Readable whenever process() has work: callbacks to run (and, with
    // searchOnCallerThread, answers to read or a deadline passed).  Stays
    // the same for the client's life.
    virtual int eventFd() const = 0;
    // Runs the callbacks of finished searches on the calling thread.  Never blocks.
    virtual void process() = 0;

    // Queues a search (with searchOnCallerThread and a connection: sends
    // it, never waiting).  The callback runs from a later process() call,
    // never from inside search().  Returns an id for cancel().
    virtual uint64_t search(SearchRequest request, SearchCallback callback) = 0;
    // The callback will not run.  Safe to call from within a callback.
    virtual void cancel(uint64_t id) = 0;

    // Runs `fn` from the next process() call (the descriptor becomes readable
    // at once), in order with search callbacks.  For answers known without a
    // search (a cache hit) that must still not run inside the caller's call.
    // Cancellable with cancel(id).
    virtual uint64_t defer(std::function<void()> fn) = 0;

    virtual size_t pending() const = 0;
    virtual ClientStats stats() const = 0;
};

// RFC 4515 §3 escaping of an assertion value: '*', '(', ')', '\', NUL and
// every octet >= 0x80 become \HH.
std::string escapeFilterValue(std::string_view value);

}  // namespace dref::ldap
