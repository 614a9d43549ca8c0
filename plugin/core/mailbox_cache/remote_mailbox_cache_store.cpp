#include "remote_mailbox_cache_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "remote_mailbox_cache_decoder.h"
#include "remote_mailbox_cache_encoder.h"
#include "response_text.h"

namespace dref {
namespace {

constexpr int64_t kFutureSlackMs = 2000;

std::string errnoText(int err) { return std::strerror(err); }

std::string joinPath(const std::string& dir, const std::string& name) {
    if (!dir.empty() && dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

int64_t ageOf(const struct stat& st) {
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    const int64_t nowMs = static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
    const int64_t mtimeMs =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
    return nowMs - mtimeMs;
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_;
};

bool writeAll(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

MailboxCacheReadResult readMailboxCache(const std::string& dir, const std::string& user,
                                        const std::string& identity, int ttlFoundMs,
                                        int ttlNotFoundMs, const MailboxCacheLimits& limits) {
    MailboxCacheReadResult r;
    try {
        r.path = joinPath(dir, mailboxCacheFileName(user));
        auto reject = [&r](std::string why) {
            r.status = MailboxCacheReadStatus::Rejected;
            r.error = quoteForLog(r.path, 300) + ": " + why;
            return r;
        };
        // O_NONBLOCK: a FIFO planted under the name must not hang the
        // process in open(); O_NOFOLLOW: no symlink to another file.
        Fd fd(open(r.path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
        if (fd.get() < 0) {
            if (errno == ENOENT) return r;  // Missing
            if (errno == ELOOP) return reject("is a symbolic link");
            return reject("cannot open: " + errnoText(errno));
        }
        struct stat st {};
        if (fstat(fd.get(), &st) != 0) return reject("cannot stat: " + errnoText(errno));
        if (!S_ISREG(st.st_mode)) return reject("not a regular file");
        if (st.st_uid != geteuid())
            return reject("owned by uid " + std::to_string(st.st_uid) + ", not by this process's uid " +
                          std::to_string(geteuid()));
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return reject("writable by group or others");
        if (st.st_nlink != 1) return reject("has " + std::to_string(st.st_nlink) + " links");
        if (static_cast<uint64_t>(st.st_size) > limits.maxBytes)
            return reject("larger than " + std::to_string(limits.maxBytes) + " bytes");
        const int64_t age = ageOf(st);
        const int maxTtl = ttlFoundMs > ttlNotFoundMs ? ttlFoundMs : ttlNotFoundMs;
        if (age < -kFutureSlackMs || age >= maxTtl) {
            r.status = MailboxCacheReadStatus::Stale;  // not worth decoding
            r.ageMs = age < 0 ? 0 : age;
            return r;
        }
        std::string bytes(static_cast<size_t>(st.st_size) + 1, '\0');
        size_t got = 0;
        while (got < bytes.size()) {
            ssize_t n = read(fd.get(), &bytes[got], bytes.size() - got);
            if (n < 0) {
                if (errno == EINTR) continue;
                return reject("cannot read: " + errnoText(errno));
            }
            if (n == 0) break;
            got += static_cast<size_t>(n);
        }
        // Grew while we read: another process is not replacing it in place
        // (writers rename), so this is not our file format.
        if (got != static_cast<size_t>(st.st_size)) return reject("changed size while read");
        bytes.resize(got);
        std::string error;
        bool mismatch = false;
        auto rec = decodeMailboxCache(bytes, user, identity, limits, &error, &mismatch);
        if (!rec) {
            if (mismatch) return r;  // Missing: another user's or other settings' file
            return reject(error);
        }
        r.record = std::move(*rec);
        r.ageMs = age < 0 ? 0 : age;
        const int ttl = r.record.answer == CachedAnswer::Found ? ttlFoundMs : ttlNotFoundMs;
        r.status = age < ttl ? MailboxCacheReadStatus::Hit : MailboxCacheReadStatus::Stale;
        return r;
    } catch (...) {
        r.status = MailboxCacheReadStatus::Rejected;
        r.error = "out of memory reading the mailbox cache";
        return r;
    }
}

bool writeMailboxCache(const std::string& dir, const MailboxCacheRecord& record,
                       const MailboxCacheLimits& limits, std::string* error) {
    static std::atomic<unsigned> counter{0};
    try {
        auto bytes = encodeMailboxCache(record, limits, error);
        if (!bytes) return false;
        const std::string name = mailboxCacheFileName(record.user);
        const std::string path = joinPath(dir, name);
        const std::string tmp = joinPath(dir, "." + name + "." + std::to_string(getpid()) + "." +
                                                  std::to_string(counter++) + ".tmp");
        Fd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                   0600));
        if (fd.get() < 0) {
            if (error) *error = "cannot create " + quoteForLog(tmp, 300) + ": " + errnoText(errno);
            return false;
        }
        if (!writeAll(fd.get(), *bytes)) {
            const int err = errno;
            unlink(tmp.c_str());
            if (error) *error = "cannot write " + quoteForLog(tmp, 300) + ": " + errnoText(err);
            return false;
        }
        if (close(fd.release()) != 0) {
            const int err = errno;
            unlink(tmp.c_str());
            if (error) *error = "cannot write " + quoteForLog(tmp, 300) + ": " + errnoText(err);
            return false;
        }
        if (rename(tmp.c_str(), path.c_str()) != 0) {
            const int err = errno;
            unlink(tmp.c_str());
            if (error)
                *error = "cannot rename to " + quoteForLog(path, 300) + ": " + errnoText(err);
            return false;
        }
        return true;
    } catch (...) {
        if (error) *error = "out of memory writing the mailbox cache";
        return false;
    }
}

}  // namespace dref
