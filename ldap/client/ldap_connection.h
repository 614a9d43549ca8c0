#pragma once
// One established LDAP session (the LDAP* handle), used only by the worker
// thread.  open() blocks (connect, TLS, bind) but every step is bounded by
// ClientSettings::connectTimeoutMs; everything else never waits.
#include <memory>
#include <string>

#include "ldap_client.h"

typedef struct ldap LDAP;

namespace dref::ldap {

struct LdapApi;

// Receives the messages read by Connection::readAvailable.
class MessageSink {
public:
    virtual ~MessageSink() = default;
    virtual void onEntry(int msgid, Entry&& entry) = 0;
    // rc is the LDAP result code of the search (0 = success).
    virtual void onSearchDone(int msgid, int rc, std::string&& diagnostic) = 0;
};

class Connection {
public:
    // Connects to `uri`, applies the options, StartTLS and binds.  Sets
    // *bound when a bind operation was performed.  nullptr + *error on failure.
    static std::unique_ptr<Connection> open(const std::string& uri, const ClientSettings& settings,
                                            bool* bound, std::string* error);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    const std::string& uri() const { return uri_; }
    int fd() const { return fd_; }

    // Sends a search; returns the message id, or -1 with *error set.  *lost is
    // set when the failure means the connection is gone.
    int sendSearch(const SearchRequest& request, int timeoutMs, std::string* error, bool* lost);
    void abandon(int msgid);

    enum class ReadStatus { Idle, More, Lost };
    // Reads every message libldap has (from the socket or already buffered,
    // e.g. decrypted TLS records) without waiting, up to a batch limit.
    // More: call again without polling.  Lost: *error says why.
    ReadStatus readAvailable(MessageSink& sink, std::string* error);

private:
    Connection(const LdapApi& api, LDAP* ld, std::string uri, int fd)
        : api_(api), ld_(ld), uri_(std::move(uri)), fd_(fd) {}
    bool parseEntry(void* message, Entry* entry);

    const LdapApi& api_;
    LDAP* ld_;
    std::string uri_;
    int fd_;
};

// One line for logs from an LDAP result code and the session's diagnostic
// message (control characters replaced).
std::string ldapErrorText(const LdapApi& api, LDAP* ld, int rc);

}  // namespace dref::ldap
