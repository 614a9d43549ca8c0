#include "ldap_connection.h"

#include "ldap_api.h"

#include <cctype>
#include <cstring>

namespace dref::ldap {
namespace {

// A connection must not monopolise the worker: after this many messages the
// worker checks deadlines and cancellations, then reads on.
constexpr int kMaxMessagesPerRead = 512;
// The read-ahead buffer of a plain connection (addReadAhead).
constexpr int kReadAheadBytes = 64 * 1024;

timeval toTimeval(int ms) {
    timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

std::string oneLine(const char* text) {
    std::string out;
    for (const char* p = text; p != nullptr && *p != '\0' && out.size() < 300; ++p) {
        unsigned char c = static_cast<unsigned char>(*p);
        out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    }
    return out;
}

int requireCertValue(const std::string& name) {
    if (name == "never") return LDAP_OPT_X_TLS_NEVER;
    if (name == "allow") return LDAP_OPT_X_TLS_ALLOW;
    if (name == "try") return LDAP_OPT_X_TLS_TRY;
    return LDAP_OPT_X_TLS_DEMAND;
}

bool hasScheme(const std::string& uri, const char* scheme) {
    size_t n = std::strlen(scheme);
    if (uri.size() < n) return false;
    for (size_t i = 0; i < n; ++i) {
        if (std::tolower(static_cast<unsigned char>(uri[i])) != scheme[i]) return false;
    }
    return true;
}

bool usesTls(const std::string& uri, const ClientSettings& s) {
    return hasScheme(uri, "ldaps://") || (s.startTls && hasScheme(uri, "ldap://"));
}

int scopeValue(Scope s) {
    switch (s) {
    case Scope::Base: return LDAP_SCOPE_BASE;
    case Scope::OneLevel: return LDAP_SCOPE_ONELEVEL;
    case Scope::Subtree: break;
    }
    return LDAP_SCOPE_SUBTREE;
}

// Applies the per-connection options.  TLS options are set on this handle and
// a new TLS context is built from them (LDAP_OPT_X_TLS_NEWCTX), so that two
// clients in one process with different CA files do not share libldap's
// global context.
int applyOptions(const LdapApi& api, LDAP* ld, const std::string& uri, const ClientSettings& s) {
    int version = LDAP_VERSION3;
    int rc = api.set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    if (rc != LDAP_OPT_SUCCESS) return rc;
    timeval net = toTimeval(s.connectTimeoutMs);
    if ((rc = api.set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net)) != LDAP_OPT_SUCCESS) return rc;
    // Bounds the synchronous calls of open() (StartTLS, bind).  Searches pass
    // their own zero timeouts to ldap_result and never wait on this.
    if ((rc = api.set_option(ld, LDAP_OPT_TIMEOUT, &net)) != LDAP_OPT_SUCCESS) return rc;
    if ((rc = api.set_option(ld, LDAP_OPT_REFERRALS, s.chaseReferrals ? api.opt_on : LDAP_OPT_OFF)) !=
        LDAP_OPT_SUCCESS) {
        return rc;
    }
    if ((rc = api.set_option(ld, LDAP_OPT_RESTART, api.opt_on)) != LDAP_OPT_SUCCESS) return rc;
    if (usesTls(uri, s)) {
        if (!s.tlsCaFile.empty() &&
            (rc = api.set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, s.tlsCaFile.c_str())) !=
                LDAP_OPT_SUCCESS) {
            return rc;
        }
        int require = requireCertValue(s.tlsRequireCert);
        if ((rc = api.set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require)) != LDAP_OPT_SUCCESS) {
            return rc;
        }
        int isServer = 0;
        if ((rc = api.set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &isServer)) != LDAP_OPT_SUCCESS) {
            return rc;
        }
    }
    return LDAP_SUCCESS;
}

// Without it libldap reads every message with two read() calls (its header,
// then its body) after a poll(): for an answer of 1,000 entries that is
// about 3,000 system calls on the worker (issue 13 item 4).  liblber's
// read-ahead layer, stacked on the socket layer, reads what the socket
// holds into one buffer and parses messages from there; libldap's
// wait4msg() asks the layers whether data is buffered before it polls, so a
// message left in the buffer is never waited for.  TLS connections already
// read whole records through the TLS layer and are left as they are.  A
// failure only costs speed: the connection works without the layer.
void addReadAhead(const LdapApi& api, LDAP* ld) {
    Sockbuf* sb = nullptr;
    if (api.get_option(ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS || sb == nullptr) return;
    int size = kReadAheadBytes;
    (void)api.sockbuf_add_io(sb, api.sockbuf_io_readahead, LBER_SBIOD_LEVEL_PROVIDER, &size);
}

}  // namespace

std::string ldapErrorText(const LdapApi& api, LDAP* ld, int rc) {
    std::string text = api.err2string(rc);
    char* diag = nullptr;
    if (ld != nullptr && api.get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS &&
        diag != nullptr) {
        if (*diag != '\0') text += " (" + oneLine(diag) + ")";
        api.memfree(diag);
    }
    return text;
}

std::unique_ptr<Connection> Connection::open(const std::string& uri, const ClientSettings& s,
                                             bool* bound, std::string* error) {
    *bound = false;
    // libldap is opened here, at the first connection, not when the client
    // is created (ldap_api.h).  A load failure is a connection failure like
    // any other: logged by the worker, the directory answers Unavailable.
    const LdapApi* loaded = loadLdapApi(error);
    if (loaded == nullptr) return nullptr;
    const LdapApi& api = *loaded;
    LDAP* ld = nullptr;
    int rc = api.initialize(&ld, uri.c_str());
    if (rc != LDAP_SUCCESS || ld == nullptr) {
        *error = std::string("bad URI: ") + api.err2string(rc);
        return nullptr;
    }
    auto fail = [&](const std::string& what, int code) {
        *error = what + ": " + ldapErrorText(api, ld, code);
        api.unbind_ext(ld, nullptr, nullptr);
        return nullptr;
    };
    if ((rc = applyOptions(api, ld, uri, s)) != LDAP_SUCCESS) return fail("options", rc);
    if (s.startTls && hasScheme(uri, "ldap://")) {
        if ((rc = api.start_tls_s(ld, nullptr, nullptr)) != LDAP_SUCCESS) return fail("StartTLS", rc);
    }
    if (s.saslMech == "EXTERNAL") {
        // EXTERNAL carries no credentials: the server takes the identity from
        // the transport (ldapi peer credentials or the TLS client certificate).
        // When the initial response goes out empty, slapd answers with an
        // empty challenge (saslBindInProgress); the empty response completes it.
        berval empty{0, const_cast<char*>("")};
        rc = api.sasl_bind_s(ld, nullptr, "EXTERNAL", &empty, nullptr, nullptr, nullptr);
        for (int step = 0; step < 2 && rc == LDAP_SASL_BIND_IN_PROGRESS; ++step) {
            rc = api.sasl_bind_s(ld, nullptr, "EXTERNAL", &empty, nullptr, nullptr, nullptr);
        }
        *bound = true;
        if (rc != LDAP_SUCCESS) return fail("SASL EXTERNAL bind", rc);
    } else if (!s.bindDn.empty()) {
        berval cred;
        cred.bv_val = const_cast<char*>(s.bindPassword.data());
        cred.bv_len = s.bindPassword.size();
        rc = api.sasl_bind_s(ld, s.bindDn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
        *bound = true;
        if (rc != LDAP_SUCCESS) return fail("bind", rc);
    } else if ((rc = api.connect(ld)) != LDAP_SUCCESS) {
        return fail("connect", rc);
    }
    int fd = -1;
    if ((rc = api.get_option(ld, LDAP_OPT_DESC, &fd)) != LDAP_OPT_SUCCESS || fd < 0) {
        return fail("no socket", rc == LDAP_OPT_SUCCESS ? LDAP_SERVER_DOWN : rc);
    }
    if (!usesTls(uri, s)) addReadAhead(api, ld);
    return std::unique_ptr<Connection>(new Connection(api, ld, uri, fd));
}

Connection::~Connection() { api_.unbind_ext(ld_, nullptr, nullptr); }

int Connection::sendSearch(const SearchRequest& r, int timeoutMs, std::string* error, bool* lost) {
    const LdapApi& api = api_;
    std::vector<char*> attrs;
    for (const auto& a : r.attributes) attrs.push_back(const_cast<char*>(a.c_str()));
    attrs.push_back(nullptr);
    // Also sent as the server-side time limit (whole seconds, at least 1).
    timeval limit{(timeoutMs + 999) / 1000, 0};
    int msgid = -1;
    int rc = api.search_ext(ld_, r.base.c_str(), scopeValue(r.scope), r.filter.c_str(),
                             r.attributes.empty() ? nullptr : attrs.data(), 0, nullptr, nullptr,
                             &limit, r.sizeLimit, &msgid);
    if (rc != LDAP_SUCCESS) {
        *error = ldapErrorText(api, ld_, rc);
        // LDAP_BUSY: a non-blocking connection (searchOnCallerThread) whose
        // socket does not take a search request: the server has stopped
        // reading, as good as gone.
        *lost = (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_UNAVAILABLE ||
                 rc == LDAP_BUSY);
        return -1;
    }
    return msgid;
}

void Connection::abandon(int msgid) { api_.abandon_ext(ld_, msgid, nullptr, nullptr); }

// Reads the entry in place: the DN and the attribute names and values are
// views into the message's own buffer, copied once into *entry.  (The
// ldap_get_dn / ldap_first_attribute / ldap_get_values_len calls allocate a
// copy of each, and ldap_get_values_len scans the entry again from its first
// attribute for every name: at 1,000 entries per answer that was most of the
// worker's time, issue 13 item 4.)  A message that does not decode is
// skipped (false), as before.
bool Connection::parseEntry(void* message, Entry* entry) {
    const LdapApi& api = api_;
    LDAPMessage* msg = static_cast<LDAPMessage*>(message);
    BerElement* ber = nullptr;
    berval dn{0, nullptr};
    if (api.get_dn_ber(ld_, msg, &ber, &dn) != LDAP_SUCCESS || ber == nullptr) return false;
    entry->dn.assign(dn.bv_val != nullptr ? dn.bv_val : "", dn.bv_len);
    bool ok = true;
    while (true) {
        berval name{0, nullptr};
        berval* vals = nullptr;
        if (api.get_attribute_ber(ld_, msg, ber, &name, &vals) != LDAP_SUCCESS) {
            ok = false;
            break;
        }
        if (name.bv_val == nullptr) break;  // no more attributes
        std::string key(name.bv_val, name.bv_len);
        for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto& values = entry->attributes[std::move(key)];
        for (int i = 0; vals != nullptr && vals[i].bv_val != nullptr; ++i) {
            values.emplace_back(vals[i].bv_val, vals[i].bv_len);
        }
        if (vals != nullptr) api.ber_memfree(vals);
    }
    api.ber_free(ber, 0);  // the buffer belongs to the message
    return ok;
}

Connection::ReadStatus Connection::readAvailable(MessageSink& sink, std::string* error) {
    const LdapApi& api = api_;
    for (int n = 0; n < kMaxMessagesPerRead; ++n) {
        timeval zero{0, 0};
        LDAPMessage* msg = nullptr;
        int type = api.result(ld_, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
        if (type == 0) return ReadStatus::Idle;
        if (type < 0) {
            int rc = LDAP_SERVER_DOWN;
            api.get_option(ld_, LDAP_OPT_RESULT_CODE, &rc);
            *error = ldapErrorText(api, ld_, rc);
            if (msg != nullptr) api.msgfree(msg);
            return ReadStatus::Lost;
        }
        const int msgid = api.msgid(msg);
        if (type == LDAP_RES_SEARCH_ENTRY) {
            Entry entry;
            if (parseEntry(msg, &entry)) sink.onEntry(msgid, std::move(entry));
        } else if (type == LDAP_RES_SEARCH_RESULT) {
            int rc = LDAP_OTHER;
            char* diag = nullptr;
            int prc = api.parse_result(ld_, msg, &rc, nullptr, &diag, nullptr, nullptr, 0);
            std::string text;
            if (prc != LDAP_SUCCESS) {
                rc = prc;
            } else if (rc != LDAP_SUCCESS) {
                text = api.err2string(rc);
                if (diag != nullptr && *diag != '\0') text += " (" + oneLine(diag) + ")";
            }
            if (diag != nullptr) api.memfree(diag);
            sink.onSearchDone(msgid, rc, std::move(text));
        } else if (msgid == 0) {
            // Unsolicited notification (RFC 4511 §4.4.1, Notice of
            // Disconnection): the server is closing the session.
            api.msgfree(msg);
            *error = "server sent notice of disconnection";
            return ReadStatus::Lost;
        }
        // Search references are ignored: referrals are not followed (D-20).
        api.msgfree(msg);
    }
    return ReadStatus::More;
}

}  // namespace dref::ldap
