// What the login plugin keeps from the settings file
// (plugin/core/settings/login_settings.cpp): the settings without their
// passwords, the prepared referral text and the drain greeting.  Finding
// the file (environment or referral_config) is the glue's, covered by
// tests/integration/login/presentation/.
#include "login_settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace dref {
namespace {

const char kRequired[] = "ldap_uris = ldap://127.0.0.1\nuser_base = dc=example,dc=test\n";

// kRequired + `extra` in a fresh temporary file, removed with the object.
class SettingsFileOnDisk {
public:
    explicit SettingsFileOnDisk(const std::string& extra) {
        const int fd = mkstemp(name_);
        if (fd < 0) return;
        const std::string text = kRequired + extra;
        const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
        close(fd);
        if (written) path_ = name_;
    }
    ~SettingsFileOnDisk() { unlink(name_); }
    SettingsFileOnDisk(const SettingsFileOnDisk&) = delete;
    SettingsFileOnDisk& operator=(const SettingsFileOnDisk&) = delete;
    // Empty when the file could not be written.
    const std::string& path() const { return path_; }

private:
    char name_[32] = "/tmp/dref-login-settings-XXXXXX";
    std::string path_;
};

TEST(LoginSettings, KeepsSettingsAndPreparesTheReply) {
    SettingsFileOnDisk file("referral_text = Your mailbox moved\nauth_in_url = mechanism\n");
    ASSERT_FALSE(file.path().empty());
    LoginPluginConfig config;
    std::string error;
    ASSERT_TRUE(loadLoginPluginConfig(file.path(), &config, &error)) << error;
    EXPECT_EQ(config.settings.directory.uris, std::vector<std::string>{"ldap://127.0.0.1"});
    EXPECT_EQ(config.reply.referralText, prepareLoginReply(config.settings.login).referralText);
    EXPECT_NE(config.reply.referralText.find("Your mailbox moved"), std::string::npos);
    EXPECT_TRUE(config.reply.authMechanismInUrl);
    EXPECT_TRUE(config.drainGreeting.empty());
}

// The process faces unauthenticated clients: no password of the file stays
// in the settings it keeps.
TEST(LoginSettings, ForgetsThePasswords) {
    SettingsFileOnDisk file(
        "ldap_bind_dn = cn=reader,dc=example,dc=test\nldap_bind_password = bind-secret\n"
        "proxy_master_user = master\nproxy_master_password = master-secret\n");
    ASSERT_FALSE(file.path().empty());
    LoginPluginConfig config;
    std::string error;
    ASSERT_TRUE(loadLoginPluginConfig(file.path(), &config, &error)) << error;
    EXPECT_EQ(config.settings.directory.bindDn, "cn=reader,dc=example,dc=test");
    EXPECT_TRUE(config.settings.directory.bindPassword.empty());
    EXPECT_EQ(config.settings.login.proxyMasterUser, "master");
    EXPECT_TRUE(config.settings.login.proxyMasterPassword.empty());
}

TEST(LoginSettings, DrainHostGivesTheGreeting_R2221_13) {
    SettingsFileOnDisk file("drain_host = 192.0.2.9\ndrain_port = 1143\ndrain_text = Maintenance\n");
    ASSERT_FALSE(file.path().empty());
    LoginPluginConfig config;
    std::string error;
    ASSERT_TRUE(loadLoginPluginConfig(file.path(), &config, &error)) << error;
    EXPECT_EQ(config.drainGreeting, "* BYE [REFERRAL imap://;AUTH=*@192.0.2.9:1143/] Maintenance\r\n");
}

TEST(LoginSettings, BadLineNamesFileAndLine) {
    SettingsFileOnDisk file("drain_host = 2001:db8::1\n");
    ASSERT_FALSE(file.path().empty());
    LoginPluginConfig config;
    std::string error;
    EXPECT_FALSE(loadLoginPluginConfig(file.path(), &config, &error));
    EXPECT_EQ(error.rfind(file.path() + ":3: drain_host: ", 0), 0u) << error;
}

TEST(LoginSettings, MissingFileNamesIt) {
    LoginPluginConfig config;
    std::string error;
    EXPECT_FALSE(loadLoginPluginConfig("/nonexistent/dovecot-referral.conf.ext", &config, &error));
    EXPECT_EQ(error.rfind("/nonexistent/dovecot-referral.conf.ext: cannot open: ", 0), 0u) << error;
}

}  // namespace
}  // namespace dref
