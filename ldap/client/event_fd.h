#pragma once
// A level-triggered wake-up descriptor (Linux eventfd): signal() makes it
// readable, drain() makes it unreadable again.  Used in both directions
// between the caller's event loop and the LDAP worker thread.
namespace dref::ldap {

class EventFd {
public:
    EventFd();  // throws std::system_error when no descriptor can be made
    ~EventFd();
    EventFd(const EventFd&) = delete;
    EventFd& operator=(const EventFd&) = delete;

    int fd() const { return fd_; }
    void signal();  // async-signal-safe, never blocks
    void drain();   // never blocks

private:
    int fd_;
};

}  // namespace dref::ldap
