#include "event_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace dref::ldap {

EventFd::EventFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

EventFd::~EventFd() { close(fd_); }

void EventFd::signal() {
    const uint64_t one = 1;
    // EAGAIN means the counter is saturated: it is readable anyway.
    while (write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

void EventFd::drain() {
    uint64_t value;
    while (read(fd_, &value, sizeof value) < 0 && errno == EINTR) {
    }
}

}  // namespace dref::ldap
