// Which process may hold which secret of the settings file (process_secrets.h).
#include "process_secrets.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "settings.h"

namespace dref {
namespace {

Settings load(const std::string& extra) {
    SettingsFile f;
    std::string error;
    Settings s;
    EXPECT_TRUE(parseSettingsText("ldap_uris = ldap://127.0.0.1\nuser_base = dc=example,dc=test\n"
                                  "ldap_bind_dn = cn=dovecot,dc=example,dc=test\n"
                                  "ldap_bind_password = Bind-Secret\n" + extra,
                                  "/etc/dovecot/dovecot-referral.conf.ext", &f, &error))
        << error;
    EXPECT_TRUE(loadSettings(f, &s, &error)) << error;
    return s;
}

TEST(MailProcessSettings, ChainModeFileIsUsable) {
    EXPECT_EQ(mailProcessSettingsProblem(load("")), "");
}

TEST(MailProcessSettings, PasswordModeFileIsRefusedWithTheReasonAndTheFix) {
    const std::string problem = mailProcessSettingsProblem(load("password_attribute = userPassword\n"));
    EXPECT_NE(problem.find("/etc/dovecot/dovecot-referral.conf.ext: password_attribute is set"),
              std::string::npos) << problem;
    EXPECT_NE(problem.find("own settings file without password_attribute"), std::string::npos);
    EXPECT_NE(problem.find("cannot read userPassword"), std::string::npos);
    // The refusal names the risk, never a secret.
    EXPECT_EQ(problem.find("Bind-Secret"), std::string::npos);
}

TEST(SettingsSecrets, EveryPasswordIsEmptiedAndTheRestKept) {
    Settings s = load("proxy_master_user = master\nproxy_master_password = Proxy-Secret\n"
                      "mailbox_relay_master_user = relay\n"
                      "mailbox_relay_master_password = Relay-Secret\n"
                      "referral_text = Go home\n");
    ASSERT_EQ(s.directory.bindPassword, "Bind-Secret");
    ASSERT_EQ(s.login.proxyMasterPassword, "Proxy-Secret");
    ASSERT_EQ(s.mailbox.relayMasterPassword, "Relay-Secret");
    forgetSettingsSecrets(&s);
    EXPECT_EQ(s.directory.bindPassword, "");
    EXPECT_EQ(s.login.proxyMasterPassword, "");
    EXPECT_EQ(s.mailbox.relayMasterPassword, "");
    // What the login plugin uses stays.
    EXPECT_EQ(s.login.referralText, "Go home");
    EXPECT_EQ(s.directory.bindDn, "cn=dovecot,dc=example,dc=test");
    EXPECT_EQ(s.login.proxyMasterUser, "master");
}

TEST(SettingsSecrets, OverwriteLeavesNoCharacterOfTheSecret) {
    std::string secret = "Bind-Secret-long-enough-for-a-heap-buffer-0123456789";
    const size_t size = secret.size();
    overwriteString(&secret);
    EXPECT_EQ(secret, std::string(size, '\0'));
    wipeString(&secret);
    EXPECT_TRUE(secret.empty());
    EXPECT_EQ(secret.capacity(), std::string().capacity());  // buffer released
    std::string empty;
    wipeString(&empty);  // no buffer to touch
    EXPECT_TRUE(empty.empty());
}

// Password mode's copies of a stored hash for one check (plugin/auth):
// overwritten when the scope ends, by an exception too.
TEST(SettingsSecrets, WipeOnExitOverwritesTheCopyHoweverTheScopeEnds) {
    std::string copy = "{SHA512-CRYPT}$6$salt$hash-long-enough-for-a-heap-buffer";
    const size_t size = copy.size();
    { const WipeOnExit wipe(&copy); }
    EXPECT_EQ(copy, std::string(size, '\0'));
    std::string small = "{PLAIN}pw";  // in the string object itself (no heap buffer)
    try {
        const WipeOnExit wipe(&small);
        throw std::runtime_error("check failed");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(small, std::string(9, '\0'));
}

}  // namespace
}  // namespace dref
