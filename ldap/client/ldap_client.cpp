// The caller's side of ldap::Client: validates the settings, starts the
// worker thread with every signal blocked, queues searches for it and runs
// the callbacks of finished ones from process().
#include "ldap_client.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <thread>
#include <unordered_map>

#include "client_shared.h"
#include "ldap_worker.h"

namespace dref::ldap {

const char* resultStatusName(ResultStatus s) {
    switch (s) {
    case ResultStatus::Ok: return "ok";
    case ResultStatus::NoSuchObject: return "no-such-object";
    case ResultStatus::Timeout: return "timeout";
    case ResultStatus::Unavailable: return "unavailable";
    case ResultStatus::Error: return "error";
    case ResultStatus::Cancelled: return "cancelled";
    }
    return "unknown";
}

std::vector<std::string>* Entry::values(std::string_view name) {
    return const_cast<std::vector<std::string>*>(static_cast<const Entry*>(this)->values(name));
}

const std::vector<std::string>* Entry::values(std::string_view name) const {
    std::string key(name);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = attributes.find(key);
    return it == attributes.end() ? nullptr : &it->second;
}

namespace {

// Checked without libldap, which is loaded only at the first connection
// (ldap_api.h): a known scheme and nothing that cannot be in a URI.  Any
// finer error (bad port, bad escape) is libldap's, reported by the worker as
// a failed connection to that URI.
bool plausibleLdapUri(const std::string& uri) {
    for (char c : uri) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return false;
    }
    static const char* const kSchemes[] = {"ldap://", "ldaps://", "ldapi://"};
    for (const char* scheme : kSchemes) {
        const size_t n = std::char_traits<char>::length(scheme);
        if (uri.size() < n) continue;
        bool match = true;
        for (size_t i = 0; i < n && match; ++i) {
            match = std::tolower(static_cast<unsigned char>(uri[i])) == scheme[i];
        }
        if (match) return true;
    }
    return false;
}

bool validateSettings(const ClientSettings& s, std::string* error) {
    if (s.uris.empty()) {
        *error = "no LDAP URI configured";
        return false;
    }
    for (const auto& uri : s.uris) {
        if (!plausibleLdapUri(uri)) {
            *error = "invalid LDAP URI '" + uri + "'";
            return false;
        }
    }
    if (s.connectTimeoutMs <= 0 || s.timeoutMs <= 0) {
        *error = "LDAP timeouts must be positive";
        return false;
    }
    if (s.backoffMinMs <= 0 || s.backoffMaxMs < s.backoffMinMs) {
        *error = "LDAP reconnect backoff: need 0 < minimum <= maximum";
        return false;
    }
    if (!s.saslMech.empty() && s.saslMech != "EXTERNAL") {
        *error = "unsupported SASL mechanism '" + s.saslMech + "' (only EXTERNAL)";
        return false;
    }
    static const char* const kRequireCert[] = {"never", "allow", "try", "demand", "hard"};
    if (std::find(std::begin(kRequireCert), std::end(kRequireCert), s.tlsRequireCert) ==
        std::end(kRequireCert)) {
        *error = "invalid TLS require-cert value '" + s.tlsRequireCert + "'";
        return false;
    }
    return true;
}

class ClientImpl final : public Client {
public:
    explicit ClientImpl(const ClientSettings& settings)
        : shared_(std::make_shared<SharedState>(settings)) {}

    ~ClientImpl() override {
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            shared_->stop = true;
        }
        shared_->workerWake.signal();
        if (worker_.joinable()) worker_.join();
    }

    void start() {
        // The worker lives inside Dovecot processes, whose signal handlers
        // expect to run on the main thread: block everything there.  The
        // mask is inherited at creation and restored here right after.
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        try {
            worker_ = std::thread([shared = shared_] {
                Worker worker(shared);
                worker.run();
            });
        } catch (...) {
            pthread_sigmask(SIG_SETMASK, &old, nullptr);
            throw;
        }
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }

    int eventFd() const override { return shared_->callerReady.fd(); }

    void process() override {
        // Drain before taking the queue: a completion posted in between is
        // then either taken now or signalled again, never stranded.
        shared_->callerReady.drain();
        std::vector<Completion> done;
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            done.swap(shared_->completions);
        }
        for (size_t i = 0; i < done.size(); ++i) {
            auto it = callbacks_.find(done[i].id);
            if (it == callbacks_.end()) continue;  // cancelled
            SearchCallback cb = std::move(it->second);
            callbacks_.erase(it);
            try {
                cb(std::move(done[i].result));
            } catch (...) {
                requeue(done, i + 1);
                throw;
            }
        }
    }

    uint64_t search(SearchRequest request, SearchCallback callback) override {
        const uint64_t id = nextId_++;
        callbacks_.emplace(id, std::move(callback));
        bool failed;
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            failed = shared_->workerFailed;
            if (failed) {
                SearchResult r;
                r.status = ResultStatus::Unavailable;
                r.error = "LDAP worker failed";
                shared_->completions.push_back(Completion{id, std::move(r)});
            } else {
                shared_->submitted.push_back(SubmittedSearch{id, std::move(request), Clock::now()});
            }
        }
        (failed ? shared_->callerReady : shared_->workerWake).signal();
        return id;
    }

    uint64_t defer(std::function<void()> fn) override {
        const uint64_t id = nextId_++;
        callbacks_.emplace(id, [fn = std::move(fn)](SearchResult&&) { fn(); });
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            shared_->completions.push_back(Completion{id, SearchResult{}});
        }
        shared_->callerReady.signal();
        return id;
    }

    void cancel(uint64_t id) override {
        if (callbacks_.erase(id) == 0) return;
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            shared_->cancelled.push_back(id);
        }
        shared_->workerWake.signal();
    }

    size_t pending() const override { return callbacks_.size(); }

    ClientStats stats() const override {
        std::lock_guard<std::mutex> lock(shared_->mutex);
        return shared_->stats;
    }

private:
    // A callback threw: keep the completions not yet delivered for the next
    // process() call.
    void requeue(std::vector<Completion>& done, size_t from) {
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            auto& q = shared_->completions;
            q.insert(q.begin(), std::make_move_iterator(done.begin() + from),
                     std::make_move_iterator(done.end()));
        }
        shared_->callerReady.signal();
    }

    std::shared_ptr<SharedState> shared_;
    std::thread worker_;
    // Touched only on the caller's thread: the worker never sees callbacks.
    std::unordered_map<uint64_t, SearchCallback> callbacks_;
    uint64_t nextId_ = 1;
};

}  // namespace

std::unique_ptr<Client> Client::create(const ClientSettings& settings, std::string* error) {
    if (!validateSettings(settings, error)) return nullptr;
    try {
        auto client = std::make_unique<ClientImpl>(settings);
        client->start();
        return client;
    } catch (const std::exception& e) {
        *error = std::string("cannot start the LDAP client: ") + e.what();
    } catch (...) {
        *error = "cannot start the LDAP client";
    }
    return nullptr;
}

}  // namespace dref::ldap
