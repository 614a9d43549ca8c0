#include "load_engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace dref::perf {
namespace {

using Clock = std::chrono::steady_clock;

enum class State { Idle, Connecting, Greeting, LoginSent, LogoutSent };

struct Conn {
    int fd = -1;
    State state = State::Idle;
    std::string in;
    Clock::time_point started;
    Clock::time_point deadline;
    uint32_t latency_us = 0;
    uint32_t account = 0;
    bool classified = false;
    bool saw_bye = false;
    ReplyClass cls = ReplyClass::Other;
    std::string line;  // the line that decided the class
};

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += t[v & 63];
    }
    if (i + 1 == in.size()) {
        uint32_t v = uint8_t(in[i]) << 16;
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

class Engine {
public:
    Engine(const LoadOptions& opt, LoadReport* report) : opt_(opt), report_(report) {}
    ~Engine() {
        for (auto& c : conns_) closeFd(c);
        if (ep_ >= 0) ::close(ep_);
    }

    bool run(std::string* error) {
        if (opt_.accounts.empty() || opt_.concurrency <= 0) {
            *error = "no accounts or no concurrency";
            return false;
        }
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) {
            *error = std::string("epoll_create1: ") + strerror(errno);
            return false;
        }
        conns_.resize(static_cast<size_t>(opt_.concurrency));
        start_ = Clock::now();
        for (size_t i = 0; i < conns_.size(); ++i) startSession(i);
        std::vector<epoll_event> events(conns_.size() + 1);
        while (active_ > 0 || !restart_.empty()) {
            int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 50);
            if (n < 0 && errno != EINTR) {
                *error = std::string("epoll_wait: ") + strerror(errno);
                return false;
            }
            for (int i = 0; i < n; ++i) handle(events[i].data.u32, events[i].events);
            checkTimeouts();
            // Slots are refilled here, not from finish(): a server that
            // refuses at once must not recurse, and then it is retried at
            // most once per loop turn.
            std::vector<size_t> again;
            again.swap(restart_);
            for (size_t slot : again) startSession(slot);
        }
        report_->elapsed_s = secondsSinceStart(Clock::now());
        return true;
    }

private:
    double secondsSinceStart(Clock::time_point t) const {
        return std::chrono::duration<double>(t - start_).count();
    }

    bool wantMore() const {
        if (opt_.count > 0 && started_ >= opt_.count) return false;
        if (opt_.duration_s > 0 && secondsSinceStart(Clock::now()) >= opt_.duration_s) return false;
        return true;
    }

    void closeFd(Conn& c) {
        if (c.fd >= 0) {
            ::close(c.fd);  // also removes it from the epoll set
            c.fd = -1;
        }
    }

    void startSession(size_t slot) {
        Conn& c = conns_[slot];
        c = Conn();
        if (!wantMore()) return;
        c.account = static_cast<uint32_t>(next_account_);
        next_account_ = (next_account_ + 1) % opt_.accounts.size();
        ++started_;
        ++active_;
        c.started = Clock::now();
        c.deadline = c.started + std::chrono::milliseconds(opt_.timeout_ms);
        const Account& a = opt_.accounts[c.account];
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) return finish(slot, ReplyClass::ConnectError, strerror(errno));
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (a.has_source) {
            sockaddr_in src = a.source;
            if (bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) < 0)
                return finish(slot, ReplyClass::ConnectError,
                              std::string("bind: ") + strerror(errno));
        }
        int r = connect(c.fd, reinterpret_cast<const sockaddr*>(&opt_.target), sizeof opt_.target);
        if (r < 0 && errno != EINPROGRESS)
            return finish(slot, ReplyClass::ConnectError, std::string("connect: ") + strerror(errno));
        c.state = State::Connecting;
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
        ev.data.u32 = static_cast<uint32_t>(slot);
        if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) < 0)
            return finish(slot, ReplyClass::ConnectError, std::string("epoll_ctl: ") + strerror(errno));
    }

    void finish(size_t slot, ReplyClass cls, const std::string& line) {
        Conn& c = conns_[slot];
        if (!c.classified) {
            c.cls = cls;
            c.line = line;
            c.latency_us = static_cast<uint32_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c.started)
                    .count());
        }
        closeFd(c);
        const Account& a = opt_.accounts[c.account];
        bool unexpected = a.expect_mask != 0 && !(a.expect_mask & (1u << static_cast<int>(c.cls)));
        report_->results.push_back(
            {secondsSinceStart(Clock::now()), c.latency_us, c.cls, c.account, unexpected});
        std::string& ex = report_->examples[static_cast<int>(c.cls)];
        if (ex.empty()) ex = c.line.empty() ? "-" : c.line;
        if (unexpected && report_->unexpected_examples.size() < 10)
            report_->unexpected_examples.push_back(a.user + " (" + replyClassName(c.cls) + "): " +
                                                   c.line);
        --active_;
        c.state = State::Idle;
        restart_.push_back(slot);
    }

    void classify(Conn& c, ReplyClass cls, const std::string& line) {
        c.classified = true;
        c.cls = cls;
        c.line = line;
        c.latency_us = static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c.started).count());
    }

    bool send(size_t slot, const std::string& data) {
        Conn& c = conns_[slot];
        ssize_t w = ::send(c.fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (w != static_cast<ssize_t>(data.size())) {
            finish(slot, ReplyClass::Closed, "write failed");
            return false;
        }
        return true;
    }

    std::string loginCommand(const Account& a) const {
        if (opt_.mech == Mechanism::Plain) {
            std::string ir;
            ir += '\0';
            ir += a.user;
            ir += '\0';
            ir += a.pass;
            return "a1 AUTHENTICATE PLAIN " + base64(ir) + "\r\n";
        }
        return "a1 LOGIN " + quoted(a.user) + " " + quoted(a.pass) + "\r\n";
    }

    // Returns false when the session ended (slot reused).
    bool onLine(size_t slot, const std::string& line) {
        Conn& c = conns_[slot];
        switch (c.state) {
        case State::Greeting:
            if (line.compare(0, 5, "* OK ") == 0) {
                c.state = State::LoginSent;
                return send(slot, loginCommand(opt_.accounts[c.account]));
            }
            finish(slot, line.compare(0, 6, "* BYE ") == 0 ? ReplyClass::ByeGreeting
                                                           : ReplyClass::Other, line);
            return false;
        case State::LoginSent:
            if (line.compare(0, 6, "* BYE ") == 0) {
                c.saw_bye = true;
                c.line = line;
                return true;
            }
            if (line.compare(0, 2, "* ") == 0) return true;
            if (line.compare(0, 3, "a1 ") == 0) {
                ReplyClass cls = classifyTagged(line.substr(3), opt_.local_marker);
                classify(c, cls, line);
                bool ok = cls == ReplyClass::Ok || cls == ReplyClass::OkLocal ||
                          cls == ReplyClass::OkProxied || cls == ReplyClass::OkReferral;
                if (ok && opt_.logout) {
                    c.state = State::LogoutSent;
                    return send(slot, "a2 LOGOUT\r\n");
                }
                finish(slot, cls, line);
                return false;
            }
            finish(slot, ReplyClass::Other, line);  // e.g. "+ " continuation
            return false;
        case State::LogoutSent:
            if (line.compare(0, 3, "a2 ") == 0) {
                finish(slot, c.cls, c.line);
                return false;
            }
            return true;
        default:
            return true;
        }
    }

    void onEof(size_t slot) {
        Conn& c = conns_[slot];
        if (c.state == State::LogoutSent || c.classified) return finish(slot, c.cls, c.line);
        finish(slot, c.saw_bye ? ReplyClass::Bye : ReplyClass::Closed, c.line);
    }

    void handle(uint32_t slot, uint32_t events) {
        Conn& c = conns_[slot];
        if (c.fd < 0) return;
        if (c.state == State::Connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) return finish(slot, ReplyClass::ConnectError, strerror(err));
            if (!(events & (EPOLLOUT | EPOLLIN))) return;
            c.state = State::Greeting;
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP;
            ev.data.u32 = slot;
            epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
        }
        if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
        char buf[8192];
        for (;;) {
            ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
            if (r > 0) {
                c.in.append(buf, static_cast<size_t>(r));
                size_t pos;
                while ((pos = c.in.find("\r\n")) != std::string::npos) {
                    std::string line = c.in.substr(0, pos);
                    c.in.erase(0, pos + 2);
                    if (!onLine(slot, line)) return;
                }
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                return onEof(slot);
            if (errno == EINTR) continue;
            return;
        }
    }

    void checkTimeouts() {
        Clock::time_point now = Clock::now();
        for (size_t i = 0; i < conns_.size(); ++i) {
            Conn& c = conns_[i];
            if (c.fd >= 0 && now > c.deadline) {
                if (c.classified)
                    finish(i, c.cls, c.line);  // only LOGOUT did not finish in time
                else
                    finish(i, ReplyClass::Timeout, "no tagged reply in time");
            }
        }
    }

    const LoadOptions& opt_;
    LoadReport* report_;
    int ep_ = -1;
    std::vector<Conn> conns_;
    Clock::time_point start_;
    uint64_t started_ = 0;
    size_t next_account_ = 0;
    int active_ = 0;
    std::vector<size_t> restart_;
};

}  // namespace

bool runLoad(const LoadOptions& opt, LoadReport* report, std::string* error) {
    Engine engine(opt, report);
    return engine.run(error);
}

}  // namespace dref::perf
