// mailbox_cache_dir files on a real file system (remote_mailbox_cache_store.h):
// atomic replacement, TTLs as the directory's cache applies them
// (cache_ttl, negative_cache_ttl), and every way a planted or damaged file
// is refused.  A refused file never yields a table: the session then asks
// the directory (R2193-1 tables come from the directory or its copy only).
#include "remote_mailbox_cache_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace dref {
namespace {

const char kUser[] = "alice";
const char kIdentity[] = "0123456789abcdef";
constexpr int kTtl = 60000;
constexpr int kNegativeTtl = 10000;

class MailboxCacheStore : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/dref-cache-store-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override {
        if (DIR* d = opendir(dir_.c_str())) {
            while (struct dirent* e = readdir(d)) {
                std::string n = e->d_name;
                if (n != "." && n != "..") unlink((dir_ + "/" + n).c_str());
            }
            closedir(d);
        }
        rmdir(dir_.c_str());
    }

    static MailboxCacheRecord record(const std::string& user = kUser) {
        MailboxCacheRecord r;
        r.user = user;
        r.identity = kIdentity;
        RemoteMailbox m;
        m.name = "Archive/2019";
        m.dn = "cn=Archive 2019,uid=alice,ou=people,dc=example,dc=test";
        m.personal = true;
        ImapUrlParts p;
        p.host = "home1.lab.test";
        p.mailbox = "Archive/2019";
        m.locations.push_back(p);
        r.mailboxes.push_back(m);
        return r;
    }

    void write(const MailboxCacheRecord& r) {
        std::string error;
        ASSERT_TRUE(writeMailboxCache(dir_, r, {}, &error)) << error;
    }

    MailboxCacheReadResult read(int ttl = kTtl, int negativeTtl = kNegativeTtl) {
        return readMailboxCache(dir_, kUser, kIdentity, ttl, negativeTtl, {});
    }

    std::string path() const { return dir_ + "/" + mailboxCacheFileName(kUser); }

    void age(int64_t seconds) {
        struct timespec times[2];
        clock_gettime(CLOCK_REALTIME, &times[0]);
        times[0].tv_sec -= seconds;
        times[1] = times[0];
        ASSERT_EQ(utimensat(AT_FDCWD, path().c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
    }

    size_t fileCount() const {
        size_t n = 0;
        if (DIR* d = opendir(dir_.c_str())) {
            while (struct dirent* e = readdir(d)) {
                const std::string name = e->d_name;
                if (name != "." && name != "..") ++n;  // temporary files count too
            }
            closedir(d);
        }
        return n;
    }

    std::string dir_;
};

TEST_F(MailboxCacheStore, WrittenFileIsReadBackFresh) {
    write(record());
    auto r = read();
    ASSERT_EQ(r.status, MailboxCacheReadStatus::Hit) << r.error;
    ASSERT_EQ(r.record.mailboxes.size(), 1u);
    EXPECT_EQ(r.record.mailboxes[0].name, "Archive/2019");
    EXPECT_GE(r.ageMs, 0);
    EXPECT_LT(r.ageMs, 5000);
}

TEST_F(MailboxCacheStore, FileIsPrivateAndNoTemporaryIsLeft) {
    write(record());
    write(record());  // replaced, not appended
    struct stat st {};
    ASSERT_EQ(stat(path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, geteuid());
    EXPECT_EQ(fileCount(), 1u);
}

TEST_F(MailboxCacheStore, NoFileIsAMiss) {
    EXPECT_EQ(read().status, MailboxCacheReadStatus::Missing);
}

TEST_F(MailboxCacheStore, OlderThanCacheTtlIsStale) {
    write(record());
    age(59);
    EXPECT_EQ(read().status, MailboxCacheReadStatus::Hit);
    age(61);
    auto r = read();
    EXPECT_EQ(r.status, MailboxCacheReadStatus::Stale);
    EXPECT_GE(r.ageMs, 61000);
}

TEST_F(MailboxCacheStore, NotFoundAnswerUsesNegativeTtl) {
    MailboxCacheRecord rec = record();
    rec.answer = CachedAnswer::NotFound;
    rec.mailboxes.clear();
    write(rec);
    age(9);
    auto r = read();
    ASSERT_EQ(r.status, MailboxCacheReadStatus::Hit) << r.error;
    EXPECT_EQ(r.record.answer, CachedAnswer::NotFound);
    age(11);
    EXPECT_EQ(read().status, MailboxCacheReadStatus::Stale);
}

TEST_F(MailboxCacheStore, ZeroTtlNeverHits) {
    write(record());
    EXPECT_EQ(read(0, 0).status, MailboxCacheReadStatus::Stale);
}

TEST_F(MailboxCacheStore, FutureMtimeIsStale) {
    write(record());
    age(-3600);
    EXPECT_EQ(read().status, MailboxCacheReadStatus::Stale);
}

TEST_F(MailboxCacheStore, GroupOrWorldWritableRefused) {
    write(record());
    ASSERT_EQ(chmod(path().c_str(), 0620), 0);
    auto r = read();
    EXPECT_EQ(r.status, MailboxCacheReadStatus::Rejected);
    EXPECT_NE(r.error.find("writable by group or others"), std::string::npos) << r.error;
    ASSERT_EQ(chmod(path().c_str(), 0602), 0);
    EXPECT_EQ(read().status, MailboxCacheReadStatus::Rejected);
    ASSERT_EQ(chmod(path().c_str(), 0644), 0);
    EXPECT_EQ(read().status, MailboxCacheReadStatus::Hit);
}

TEST_F(MailboxCacheStore, OtherOwnerRefused) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to give the file away";
    write(record());
    ASSERT_EQ(chown(path().c_str(), 65534, 65534), 0);
    auto r = read();
    EXPECT_EQ(r.status, MailboxCacheReadStatus::Rejected);
    EXPECT_NE(r.error.find("owned by uid 65534"), std::string::npos) << r.error;
}

TEST_F(MailboxCacheStore, SymlinkRefused) {
    write(record("other"));
    const std::string target = dir_ + "/" + mailboxCacheFileName("other");
    ASSERT_EQ(symlink(target.c_str(), path().c_str()), 0);
    auto r = read();
    EXPECT_EQ(r.status, MailboxCacheReadStatus::Rejected);
    EXPECT_NE(r.error.find("symbolic link"), std::string::npos) << r.error;
}

TEST_F(MailboxCacheStore, HardLinkRefused) {
    write(record());
    ASSERT_EQ(link(path().c_str(), (dir_ + "/copy").c_str()), 0);
    EXPECT_EQ(read().status, MailboxCacheReadStatus::Rejected);
}

TEST_F(MailboxCacheStore, FifoRefusedWithoutBlocking) {
    ASSERT_EQ(mkfifo(path().c_str(), 0600), 0);
    auto r = read();
    EXPECT_EQ(r.status, MailboxCacheReadStatus::Rejected);
    EXPECT_NE(r.error.find("not a regular file"), std::string::npos) << r.error;
}

TEST_F(MailboxCacheStore, DamagedFileRefusedWithReason) {
    write(record());
    {
        std::ofstream out(path(), std::ios::binary | std::ios::app);
        out << "garbage\n";
    }
    auto r = read();
    EXPECT_EQ(r.status, MailboxCacheReadStatus::Rejected);
    EXPECT_NE(r.error.find(path()), std::string::npos) << r.error;
}

TEST_F(MailboxCacheStore, AnotherUsersFileUnderTheNameIsAMiss) {
    // What a hash collision of two user names looks like.
    write(record("bob"));
    ASSERT_EQ(rename((dir_ + "/" + mailboxCacheFileName("bob")).c_str(), path().c_str()), 0);
    EXPECT_EQ(read().status, MailboxCacheReadStatus::Missing);
}

TEST_F(MailboxCacheStore, OtherSettingsAreAMiss) {
    write(record());
    EXPECT_EQ(readMailboxCache(dir_, kUser, "fedcba9876543210", kTtl, kNegativeTtl, {}).status,
              MailboxCacheReadStatus::Missing);
}

TEST_F(MailboxCacheStore, MissingDirectoryIsAWriteErrorNotACrash) {
    std::string error;
    EXPECT_FALSE(writeMailboxCache(dir_ + "/absent", record(), {}, &error));
    EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
    EXPECT_EQ(readMailboxCache(dir_ + "/absent", kUser, kIdentity, kTtl, kNegativeTtl, {}).status,
              MailboxCacheReadStatus::Missing);
}

TEST_F(MailboxCacheStore, UnencodableRecordWritesNothing) {
    MailboxCacheRecord rec = record();
    rec.mailboxes[0].name = "a\nb";
    std::string error;
    EXPECT_FALSE(writeMailboxCache(dir_, rec, {}, &error));
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(fileCount(), 0u);
}

}  // namespace
}  // namespace dref
