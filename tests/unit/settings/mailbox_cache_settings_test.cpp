// mailbox_cache_dir (settings.h): the file cache of remote-mailbox answers
// the imap plugin keeps across sessions (issue 6, session start; R2193-1
// tables without an LDAP search per session).
#include "settings_test_util.h"

namespace dref {
namespace {

bool load(const std::string& extra, Settings* s, std::string* error) {
    return testing_settings::loadText(testing_settings::kRequired + extra, s, error);
}

TEST(MailboxCacheSettings, OffByDefault) {
    Settings s;
    std::string error;
    ASSERT_TRUE(load("", &s, &error)) << error;
    EXPECT_EQ(s.mailbox.cacheDir, "");
}

TEST(MailboxCacheSettings, PrefetchAtLoginOnByDefaultAndCanBeTurnedOff) {
    Settings s;
    std::string error;
    ASSERT_TRUE(load("", &s, &error)) << error;
    EXPECT_TRUE(s.mailbox.prefetchAtLogin);
    Settings off;
    ASSERT_TRUE(load("mailbox_prefetch_at_login = no\n", &off, &error)) << error;
    EXPECT_FALSE(off.mailbox.prefetchAtLogin);
    Settings bad;
    EXPECT_FALSE(load("mailbox_prefetch_at_login = maybe\n", &bad, &error));
    EXPECT_NE(error.find("mailbox_prefetch_at_login"), std::string::npos) << error;
}

TEST(MailboxCacheSettings, AbsolutePathAccepted) {
    Settings s;
    std::string error;
    ASSERT_TRUE(load("mailbox_cache_dir = /var/cache/dovecot-referral/mailboxes\n", &s, &error))
        << error;
    EXPECT_EQ(s.mailbox.cacheDir, "/var/cache/dovecot-referral/mailboxes");
}

TEST(MailboxCacheSettings, EmptyValueTurnsItOff) {
    Settings s;
    std::string error;
    ASSERT_TRUE(load("mailbox_cache_dir =\n", &s, &error)) << error;
    EXPECT_EQ(s.mailbox.cacheDir, "");
}

TEST(MailboxCacheSettings, RelativePathRefused) {
    Settings s;
    std::string error;
    EXPECT_FALSE(load("mailbox_cache_dir = cache/mailboxes\n", &s, &error));
    EXPECT_EQ(error, "t.conf:3: mailbox_cache_dir: must be an absolute path (or empty)");
}

TEST(MailboxCacheSettings, ControlCharactersAndBadUtf8Refused) {
    Settings s;
    std::string error;
    EXPECT_FALSE(load("mailbox_cache_dir = /var/\x01x\n", &s, &error));
    EXPECT_NE(error.find("t.conf:3: mailbox_cache_dir:"), std::string::npos) << error;
    EXPECT_FALSE(load("mailbox_cache_dir = /var/\xff\n", &s, &error));
    EXPECT_NE(error.find("t.conf:3: mailbox_cache_dir:"), std::string::npos) << error;
}

TEST(MailboxCacheSettings, OverlongPathRefused) {
    Settings s;
    std::string error;
    EXPECT_TRUE(load("mailbox_cache_dir = /" + std::string(1023, 'a') + "\n", &s, &error)) << error;
    EXPECT_FALSE(load("mailbox_cache_dir = /" + std::string(1024, 'a') + "\n", &s, &error));
    EXPECT_EQ(error, "t.conf:3: mailbox_cache_dir: longer than 1024 characters");
}

TEST(MailboxCacheSettings, DuplicateRefused) {
    Settings s;
    std::string error;
    EXPECT_FALSE(load("mailbox_cache_dir = /a\nmailbox_cache_dir = /b\n", &s, &error));
    EXPECT_NE(error.find("duplicate setting"), std::string::npos) << error;
}

}  // namespace
}  // namespace dref
