// Settings of the directory section (settings.h DirectorySettings): LDAP
// URIs, attribute names, filters, password mode.
#include "settings_test_util.h"

namespace dref::testing_settings {

TEST(Settings, PasswordMode) {
    const Settings d = loadOk("");
    EXPECT_EQ(d.directory.passwordAttribute, "");  // chain mode by default
    EXPECT_EQ(d.directory.passwordDefaultScheme, "CRYPT");
    const Settings s = loadOk("password_attribute = userPassword\npassword_default_scheme = SHA512-CRYPT\n");
    EXPECT_EQ(s.directory.passwordAttribute, "userPassword");
    EXPECT_EQ(s.directory.passwordDefaultScheme, "SHA512-CRYPT");
    EXPECT_NE(loadFails("password_attribute = user Password\n").find("t.conf:3: password_attribute: "),
              std::string::npos);
    EXPECT_NE(loadFails("password_default_scheme = {SSHA}\n").find("t.conf:3: password_default_scheme: not a scheme name"),
              std::string::npos);
    EXPECT_NE(loadFails("password_default_scheme =\n").find("password_default_scheme: not a scheme name"),
              std::string::npos);
}

TEST(SettingsErrors, AttributeNames) {
    EXPECT_EQ(loadFails("home_server_attribute = mail host\n"),
              "t.conf:3: home_server_attribute: invalid LDAP attribute name 'mail host'");
    loadFails("policy_attribute = 1attr\n");
    loadFails("mailbox_name_attribute =\n");
    loadFails("mailbox_url_attribute = 1.2.\n");
    loadFails("referral_user_attribute = 01.2\n");
    loadFails("referral_user_attribute = x_y\n");
    EXPECT_EQ(loadFails("home_server_attribute =\nhome_url_attribute =\n"),
              "t.conf: home_server_attribute: home_server_attribute and home_url_attribute are both "
              "empty");
}

TEST(SettingsErrors, Filters) {
    EXPECT_EQ(loadFails("user_filter = uid=%u\n"),
              "t.conf:3: user_filter: an LDAP filter must be enclosed in parentheses");
    loadFails("user_filter = (&(uid=%u)\n");
    loadFails("user_filter = (uid=%u))(\n");
    loadFails("user_filter = (uid=%u)(x=y)\n");
    EXPECT_EQ(loadFails("user_filter = (uid=%s)\n"),
              "t.conf:3: user_filter: unknown variable '%s' (known: %u %n %d %%)");
    loadFails("mailbox_filter = (cn=100%)\n");
    loadFails("mailbox_filter = ()\n");
}

TEST(SettingsErrors, LdapUris) {
    Settings s;
    std::string error;
    EXPECT_FALSE(loadText("ldap_uris = http://x\nuser_base = dc=x\n", &s, &error));
    EXPECT_EQ(error, "t.conf:1: ldap_uris: 'http://x' is not an ldap://, ldaps:// or ldapi:// URI");
    EXPECT_FALSE(loadText("ldap_uris = ldap://\nuser_base = dc=x\n", &s, &error));
    EXPECT_FALSE(loadText("ldap_uris = ldap://:389\nuser_base = dc=x\n", &s, &error));
    EXPECT_FALSE(loadText("ldap_uris = 127.0.0.1\nuser_base = dc=x\n", &s, &error));
    EXPECT_TRUE(loadText("ldap_uris = LDAPS://a:636, ldap://b ldapi:///\nuser_base = dc=x\n", &s,
                         &error))
        << error;
    EXPECT_EQ(s.directory.uris, (std::vector<std::string>{"LDAPS://a:636", "ldap://b", "ldapi:///"}));
}

}  // namespace dref::testing_settings
