// The caller's side of ldap::Client: validates the settings, starts the
// worker thread with every signal blocked, queues searches for it and runs
// the callbacks of finished ones from process().  With
// searchOnCallerThread it also drives the connection that the worker lends
// it (CallerDrive).
#include "ldap_client.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <system_error>
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

// The descriptors through which the caller's event loop sees a lent
// connection (searchOnCallerThread): one epoll descriptor, the client's
// eventFd(), over the worker's wake-up descriptor, a timer for the searches'
// deadlines and a duplicate of the connection's socket (a duplicate, so
// that it stays valid until unwatched, whoever closes the original).
class CallerDrive {
public:
    explicit CallerDrive(int callerReadyFd)
        : epoll_(epoll_create1(EPOLL_CLOEXEC)),
          timer_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
        if (epoll_ < 0 || timer_ < 0) {
            const int e = errno;
            closeAll();
            throw std::system_error(e, std::generic_category(), "epoll or timerfd");
        }
        if (!add(callerReadyFd) || !add(timer_)) {
            const int e = errno;
            closeAll();
            throw std::system_error(e, std::generic_category(), "epoll_ctl");
        }
    }
    ~CallerDrive() { closeAll(); }
    CallerDrive(const CallerDrive&) = delete;
    CallerDrive& operator=(const CallerDrive&) = delete;

    int fd() const { return epoll_; }

    bool watch(int connectionFd) {
        unwatch();
        socket_ = fcntl(connectionFd, F_DUPFD_CLOEXEC, 0);
        if (socket_ < 0) return false;
        if (add(socket_)) return true;
        close(socket_);
        socket_ = -1;
        return false;
    }
    void unwatch() {
        if (socket_ < 0) return;
        epoll_ctl(epoll_, EPOLL_CTL_DEL, socket_, nullptr);
        close(socket_);
        socket_ = -1;
    }

    // The timer is set for the earliest deadline and only moved when it
    // fires: later searches have later deadlines, so while searches keep
    // coming it costs two system calls per timeout, not per search.
    bool armed() const { return armed_; }
    void arm(Clock::time_point at) {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
        itimerspec spec{};
        // 0 would disarm: a deadline at the clock's epoch is long past anyway.
        spec.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
        spec.it_value.tv_nsec = static_cast<long>(std::max<int64_t>(ns % 1000000000, 1));
        armed_ = timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr) == 0;
        at_ = at;
    }
    void disarm() {
        itimerspec none{};
        timerfd_settime(timer_, 0, &none, nullptr);
        armed_ = false;
    }
    // true once the armed time has passed; the timer is then unarmed (and
    // its descriptor read, so that it is not readable any more).
    bool fired(Clock::time_point now) {
        if (!armed_ || now < at_) return false;
        uint64_t expirations;
        while (read(timer_, &expirations, sizeof expirations) < 0 && errno == EINTR) {
        }
        armed_ = false;
        return true;
    }

private:
    bool add(int fd) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        return epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) == 0;
    }
    void closeAll() {
        if (socket_ >= 0) close(socket_);
        if (timer_ >= 0) close(timer_);
        if (epoll_ >= 0) close(epoll_);
        socket_ = timer_ = epoll_ = -1;
    }

    int epoll_;
    int timer_;
    int socket_ = -1;
    bool armed_ = false;
    Clock::time_point at_;
};

class ClientImpl final : public Client {
public:
    explicit ClientImpl(const ClientSettings& settings)
        : shared_(std::make_shared<SharedState>(settings)),
          engine_(std::make_shared<Worker>(shared_)) {
        if (settings.searchOnCallerThread)
            drive_ = std::make_unique<CallerDrive>(shared_->callerReady.fd());
    }

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
            worker_ = std::thread([engine = engine_] { engine->run(); });
        } catch (...) {
            pthread_sigmask(SIG_SETMASK, &old, nullptr);
            throw;
        }
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }

    int eventFd() const override { return drive_ ? drive_->fd() : shared_->callerReady.fd(); }

    void process() override {
        // The wake-up is taken with the queue, under the mutex: a completion
        // posted afterwards wakes the caller again, never stranded.
        std::vector<Completion> done;
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            if (shared_->takeCallerWake()) done.swap(shared_->completions);
        }
        if (drive_ && driving()) {
            if (drive_->fired(Clock::now())) engine_->expire(Clock::now());
            // expire() drops a server that answered nothing in time.
            if (engine_->connected()) engine_->readConnection();
            afterEngine();
        }
        if (!ready_.empty()) {
            if (done.empty()) {
                done.swap(ready_);
            } else {
                done.insert(done.end(), std::make_move_iterator(ready_.begin()),
                            std::make_move_iterator(ready_.end()));
                ready_.clear();
            }
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
        if (drive_ && driving()) {
            engine_->addSearch(SubmittedSearch{id, std::move(request), Clock::now()});
            engine_->sendUnsent();
            afterEngine();
            // A search the library refused, or a connection lost: answered
            // from the next process(), never from inside this call.
            if (!ready_.empty()) wakeSelf();
            return id;
        }
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            if (shared_->workerFailed) {
                SearchResult r;
                r.status = ResultStatus::Unavailable;
                r.error = "LDAP worker failed";
                shared_->completions.push_back(Completion{id, std::move(r)});
                shared_->wakeCaller();
                return id;
            }
            shared_->submitted.push_back(SubmittedSearch{id, std::move(request), Clock::now()});
        }
        shared_->workerWake.signal();
        return id;
    }

    uint64_t defer(std::function<void()> fn) override {
        const uint64_t id = nextId_++;
        callbacks_.emplace(id, [fn = std::move(fn)](SearchResult&&) { fn(); });
        std::lock_guard<std::mutex> lock(shared_->mutex);
        shared_->completions.push_back(Completion{id, SearchResult{}});
        shared_->wakeCaller();
        return id;
    }

    void cancel(uint64_t id) override {
        if (callbacks_.erase(id) == 0) return;
        if (drive_ && driving()) {
            engine_->cancelSearch(id);
            return;
        }
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
        std::lock_guard<std::mutex> lock(shared_->mutex);
        auto& q = shared_->completions;
        q.insert(q.begin(), std::make_move_iterator(done.begin() + from),
                 std::make_move_iterator(done.end()));
        shared_->wakeCaller();
    }

    void wakeSelf() {
        std::lock_guard<std::mutex> lock(shared_->mutex);
        shared_->wakeCaller();
    }

    // searchOnCallerThread: whether this thread drives the connection now.
    // The first call after the worker lent it takes it over: the searches
    // queued for the worker meanwhile, and the socket to watch.
    bool driving() {
        if (driving_) return true;
        std::vector<SubmittedSearch> submitted;
        std::vector<uint64_t> cancelled;
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            if (shared_->driver != Driver::Caller) return false;
            submitted.swap(shared_->submitted);
            cancelled.swap(shared_->cancelled);
        }
        driving_ = true;
        engine_->beginCallerTurn(std::move(submitted), std::move(cancelled));
        if (!drive_->watch(engine_->connectionFd())) {
            // Not watchable (no descriptor left): as good as lost, the
            // worker connects anew after its backoff.
            engine_->loseConnection("cannot watch the connection from the caller's event loop");
            afterEngine();
            return false;
        }
        engine_->sendUnsent();
        // Whatever the library already holds for the worker's searches
        // (the socket itself is watched from now on).
        if (engine_->connected()) engine_->readConnection();
        afterEngine();
        if (!ready_.empty()) wakeSelf();
        return driving_;
    }

    // After each step of the caller's turn: collect what finished, give a
    // lost connection back to the worker, keep the deadline timer set.
    void afterEngine() {
        std::vector<Completion> finished = engine_->takeFinished();
        if (!finished.empty()) {
            if (ready_.empty())
                ready_.swap(finished);
            else
                ready_.insert(ready_.end(), std::make_move_iterator(finished.begin()),
                              std::make_move_iterator(finished.end()));
        }
        if (!engine_->connected()) {
            engine_->endCallerTurn();
            handBack();
            return;
        }
        if (engine_->moreBuffered()) wakeSelf();
        if (!drive_->armed() && engine_->hasPending()) drive_->arm(engine_->earliestDeadline());
    }

    // The connection is gone: the worker reconnects (with its backoff and
    // failover) and sends the searches still pending again.
    void handBack() {
        drive_->unwatch();
        drive_->disarm();
        driving_ = false;
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            shared_->driver = Driver::Worker;
        }
        shared_->workerWake.signal();
    }

    std::shared_ptr<SharedState> shared_;
    // Run by the worker thread; by this one during the caller's turn.
    std::shared_ptr<Worker> engine_;
    std::thread worker_;
    std::unique_ptr<CallerDrive> drive_;  // searchOnCallerThread only
    bool driving_ = false;
    std::vector<Completion> ready_;  // finished in the caller's turn, for process()
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
