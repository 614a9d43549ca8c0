// Typed settings (settings.h): every key, every kind of error.
#include "settings.h"

#include <gtest/gtest.h>

#include <string>

namespace dref {
namespace {

const char kRequired[] = "ldap_uris = ldap://127.0.0.1\nuser_base = dc=example,dc=test\n";

bool loadText(const std::string& text, Settings* s, std::string* error) {
    SettingsFile f;
    if (!parseSettingsText(text, "t.conf", &f, error)) return false;
    return loadSettings(f, s, error);
}

Settings loadOk(const std::string& extra) {
    Settings s;
    std::string error;
    EXPECT_TRUE(loadText(kRequired + extra, &s, &error)) << error;
    return s;
}

// Loads kRequired (lines 1-2) + `extra` (line 3 on) and returns the error.
std::string loadFails(const std::string& extra) {
    Settings s;
    std::string error;
    EXPECT_FALSE(loadText(kRequired + extra, &s, &error)) << extra;
    return error;
}

TEST(Settings, DefaultsWithOnlyRequiredKeys) {
    const Settings s = loadOk("");
    const Settings d;
    EXPECT_EQ(s.path, "t.conf");
    ASSERT_EQ(s.directory.uris.size(), 1u);
    EXPECT_EQ(s.directory.uris[0], "ldap://127.0.0.1");
    EXPECT_EQ(s.directory.userBase, "dc=example,dc=test");
    EXPECT_EQ(s.directory.userFilter, d.directory.userFilter);
    EXPECT_EQ(s.directory.timeoutMs, 2000);
    EXPECT_FALSE(s.directory.chaseReferrals);  // D-20
    // Issue 11: the policy that serves every measured client.
    EXPECT_EQ(s.decision.defaultPolicy, ReferralPolicy::ProxySuggest);
    EXPECT_TRUE(s.decision.localNames.empty());
    EXPECT_TRUE(s.decision.allowedHosts.empty());  // any host: the directory decides
    EXPECT_TRUE(s.decision.notFoundIsLocal);
    EXPECT_FALSE(s.login.authMechanismInUrl);  // D-3
    // Proxy connection: plaintext unless set, but verified once TLS is on.
    EXPECT_EQ(s.login.proxyConnection.tls, ProxyTls::None);
    EXPECT_TRUE(s.login.proxyConnection.verifyCertificate);
    EXPECT_EQ(s.login.proxyConnection.timeoutSeconds, 0);
    EXPECT_EQ(s.login.drainHost, "");
    EXPECT_EQ(s.mailbox.mode, MailboxReferralMode::Always);
    EXPECT_FALSE(s.mailbox.referStatus);  // D-9
    EXPECT_FALSE(s.mailbox.referRename);  // D-6
    // The standard ports of each protocol on the home server (issue 14).
    EXPECT_EQ(s.directory.homePort, 143);
    EXPECT_EQ(s.decision.ports.pop3, 110);
    EXPECT_EQ(s.decision.ports.lmtp, 24);
    EXPECT_EQ(s.decision.ports.managesieve, 4190);
    EXPECT_EQ(s.decision.ports.submission, 587);
    EXPECT_EQ(s.decision.ports.doveadm, 0);  // doveadm's own doveadm_port
}

TEST(Settings, EveryKeyTyped) {
    const Settings s = loadOk(
        "ldap_bind_dn = cn=dovecot,dc=example,dc=test\n"
        "ldap_bind_password = \" s3cret \"\n"
        "ldap_sasl_mech = external\n"
        "ldap_starttls = yes\n"
        "ldap_tls_ca_file = /etc/ssl/certs/ca.pem\n"
        "ldap_tls_require_cert = TRY\n"
        "ldap_connect_timeout = 500ms\n"
        "ldap_timeout = 5\n"
        "ldap_reconnect_backoff_max = 2m\n"
        "ldap_chase_referrals = true\n"
        "user_scope = one\n"
        "user_filter = (&(uid=%n)(mailDomain=%d)(x=100%%))\n"
        "home_server_attribute = 2.16.840.1.113730.3.1.18\n"
        "home_port = 10143\n"
        "home_pop3_port = 10110\n"
        "home_lmtp_port = 10024\n"
        "home_managesieve_port = 14190\n"
        "home_submission_port = 10587\n"
        "home_doveadm_port = 12345\n"
        "home_url_attribute =\n"
        "policy_attribute = x-policy\n"
        "referral_user_attribute = mail\n"
        "mailbox_shared_base = ou=shared,dc=example,dc=test\n"
        "mailbox_filter = (objectClass=*)\n"
        "mailbox_name_attribute = cn\n"
        "mailbox_url_attribute = labeledURI\n"
        "mailbox_max_entries = 50\n"
        "cache_ttl = 0\n"
        "negative_cache_ttl = 1h\n"
        "cache_size = 0\n"
        "cache_max_bytes = 3M\n"
        "local_names = front.example.org, 192.0.2.1 front2:10143 ::1 [2001:db8::1]:993\n"
        "allowed_hosts = *.mail.example.org, imap?.example.net 192.0.2.* 2001:db8::*\n"
        "default_policy = Refer\n"
        "client_id_rule = refer Alpine*\n"
        "client_id_rule = proxy Microsoft Outlook*\n"
        "listener_rule = local 192.0.2.1:143\n"
        "listener_rule = suggest *\n"
        "listener_rule = refer [2001:db8::1]:993\n"
        "listener_rule = proxy ::1\n"
        "refer_insecure = no\n"
        "insecure_policy = local\n"
        "unknown_user_policy = reject\n"
        "referral_text = Go home.\n"
        "auth_in_url = mechanism\n"
        "proxy_master_user = master\n"
        "proxy_master_password = pw\n"
        "proxy_tls = StartTLS\n"
        "proxy_tls_verify = no\n"
        "proxy_timeout = 2m\n"
        "drain_host = maint.example.org\n"
        "drain_port = 993\n"
        "drain_text = Down for maintenance.\n"
        "mailbox_referrals = no\n"
        "mailbox_referral_mode = opt-in\n"
        "mailbox_referral_status = yes\n"
        "mailbox_referral_rename = yes\n"
        "mailbox_referral_copy = yes\n"
        "mailbox_referral_create = no\n"
        "mailbox_referral_text = Elsewhere.\n");
    const auto& d = s.directory;
    EXPECT_EQ(d.bindDn, "cn=dovecot,dc=example,dc=test");
    EXPECT_EQ(d.bindPassword, " s3cret ");
    EXPECT_EQ(d.saslMech, "EXTERNAL");
    EXPECT_TRUE(d.startTls);
    EXPECT_EQ(d.tlsCaFile, "/etc/ssl/certs/ca.pem");
    EXPECT_EQ(d.tlsRequireCert, "try");
    EXPECT_EQ(d.connectTimeoutMs, 500);
    EXPECT_EQ(d.timeoutMs, 5000);
    EXPECT_EQ(d.backoffMaxMs, 120000);
    EXPECT_TRUE(d.chaseReferrals);
    EXPECT_EQ(d.userScope, "one");
    EXPECT_EQ(d.userFilter, "(&(uid=%n)(mailDomain=%d)(x=100%%))");
    EXPECT_EQ(d.homeServerAttribute, "2.16.840.1.113730.3.1.18");
    EXPECT_EQ(d.homePort, 10143);
    EXPECT_EQ(d.homeUrlAttribute, "");
    EXPECT_EQ(d.policyAttribute, "x-policy");
    EXPECT_EQ(d.referralUserAttribute, "mail");
    EXPECT_EQ(d.mailboxSharedBase, "ou=shared,dc=example,dc=test");
    EXPECT_EQ(d.mailboxFilter, "(objectClass=*)");
    EXPECT_EQ(d.mailboxNameAttribute, "cn");
    EXPECT_EQ(d.mailboxUrlAttribute, "labeledURI");
    EXPECT_EQ(d.mailboxMaxEntries, 50u);
    EXPECT_EQ(d.cacheTtlMs, 0);
    EXPECT_EQ(d.negativeCacheTtlMs, 3600000);
    EXPECT_EQ(d.cacheSize, 0u);
    EXPECT_EQ(d.cacheMaxBytes, size_t(3) << 20);
    const auto& dec = s.decision;
    EXPECT_EQ(dec.ports.pop3, 10110);
    EXPECT_EQ(dec.ports.lmtp, 10024);
    EXPECT_EQ(dec.ports.managesieve, 14190);
    EXPECT_EQ(dec.ports.submission, 10587);
    EXPECT_EQ(dec.ports.doveadm, 12345);
    EXPECT_EQ(dec.allowedHosts, (std::vector<std::string>{"*.mail.example.org", "imap?.example.net",
                                                          "192.0.2.*", "2001:db8::*"}));
    EXPECT_EQ(dec.localNames, (std::vector<std::string>{"front.example.org", "192.0.2.1",
                                                        "front2:10143", "::1", "[2001:db8::1]:993"}));
    EXPECT_EQ(dec.defaultPolicy, ReferralPolicy::Refer);
    ASSERT_EQ(dec.clientIdRules.size(), 2u);
    EXPECT_EQ(dec.clientIdRules[0].pattern, "Alpine*");
    EXPECT_EQ(dec.clientIdRules[0].policy, ReferralPolicy::Refer);
    EXPECT_EQ(dec.clientIdRules[1].pattern, "Microsoft Outlook*");
    EXPECT_EQ(dec.clientIdRules[1].policy, ReferralPolicy::Proxy);
    ASSERT_EQ(dec.listenerRules.size(), 4u);
    EXPECT_EQ(dec.listenerRules[0].address, "192.0.2.1");
    EXPECT_EQ(dec.listenerRules[0].port, 143);
    EXPECT_EQ(dec.listenerRules[0].policy, ReferralPolicy::Local);
    EXPECT_EQ(dec.listenerRules[1].address, "*");
    EXPECT_EQ(dec.listenerRules[1].port, 0);
    EXPECT_EQ(dec.listenerRules[2].address, "2001:db8::1");
    EXPECT_EQ(dec.listenerRules[2].port, 993);
    EXPECT_EQ(dec.listenerRules[3].address, "::1");
    EXPECT_EQ(dec.listenerRules[3].port, 0);
    EXPECT_FALSE(dec.referInsecure);
    EXPECT_EQ(dec.insecureFallback, ReferralPolicy::Local);
    EXPECT_FALSE(dec.notFoundIsLocal);
    EXPECT_EQ(s.login.referralText, "Go home.");
    EXPECT_TRUE(s.login.authMechanismInUrl);
    EXPECT_EQ(s.login.proxyMasterUser, "master");
    EXPECT_EQ(s.login.proxyMasterPassword, "pw");
    EXPECT_EQ(s.login.proxyConnection.tls, ProxyTls::StartTls);
    EXPECT_FALSE(s.login.proxyConnection.verifyCertificate);
    EXPECT_EQ(s.login.proxyConnection.timeoutSeconds, 120);
    EXPECT_EQ(s.login.drainHost, "maint.example.org");
    EXPECT_EQ(s.login.drainPort, 993);
    EXPECT_EQ(s.login.drainText, "Down for maintenance.");
    EXPECT_FALSE(s.mailbox.enabled);
    EXPECT_EQ(s.mailbox.mode, MailboxReferralMode::OptIn);
    EXPECT_TRUE(s.mailbox.referStatus);
    EXPECT_TRUE(s.mailbox.referRename);
    EXPECT_TRUE(s.mailbox.referCopy);
    EXPECT_FALSE(s.mailbox.referCreate);
    EXPECT_EQ(s.mailbox.referralText, "Elsewhere.");
}

// --- error kinds, each with the exact "<file>:<line>: <key>: <message>" form

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

TEST(SettingsErrors, UnknownKey) {
    EXPECT_EQ(loadFails("ldap_url = ldap://x\n"), "t.conf:3: ldap_url: unknown setting");
    EXPECT_EQ(loadFails("LDAP_TIMEOUT = 3s\n"), "t.conf:3: LDAP_TIMEOUT: unknown setting");
}

TEST(SettingsErrors, DuplicateSingleValuedKey) {
    EXPECT_EQ(loadFails("ldap_timeout = 1s\n\nldap_timeout = 2s\n"),
              "t.conf:5: ldap_timeout: duplicate setting (first set at line 3)");
    EXPECT_EQ(loadFails("ldap_uris = ldap://x\n"),
              "t.conf:3: ldap_uris: duplicate setting (first set at line 1)");
}

TEST(SettingsErrors, MissingRequired) {
    Settings s;
    std::string error;
    EXPECT_FALSE(loadText("user_base = dc=x\n", &s, &error));
    EXPECT_EQ(error, "t.conf: ldap_uris: required setting missing");
    EXPECT_FALSE(loadText("ldap_uris = ldap://x\n", &s, &error));
    EXPECT_EQ(error, "t.conf: user_base: required setting missing");
    EXPECT_FALSE(loadText("", &s, &error));
    EXPECT_EQ(error, "t.conf: ldap_uris: required setting missing");
}

TEST(SettingsErrors, RequiredButEmpty) {
    Settings s;
    std::string error;
    EXPECT_FALSE(loadText("ldap_uris =\nuser_base = dc=x\n", &s, &error));
    EXPECT_EQ(error, "t.conf:1: ldap_uris: no LDAP URI given");
    EXPECT_FALSE(loadText("ldap_uris = ldap://x\nuser_base =\n", &s, &error));
    EXPECT_EQ(error, "t.conf:2: user_base: must not be empty");
}

TEST(SettingsErrors, Booleans) {
    EXPECT_EQ(loadFails("ldap_starttls = on\n"),
              "t.conf:3: ldap_starttls: expected yes, no, true or false, not 'on'");
    loadFails("refer_insecure = 1\n");
    loadFails("mailbox_referrals =\n");
    EXPECT_TRUE(loadOk("mailbox_referral_copy = YES\n").mailbox.referCopy);
    EXPECT_FALSE(loadOk("ldap_starttls = False\n").directory.startTls);
}

TEST(SettingsErrors, Ports) {
    EXPECT_EQ(loadFails("home_port = 0\n").rfind("t.conf:3: home_port: invalid port", 0), 0u);
    loadFails("home_port = 65536\n");
    loadFails("drain_port = 14x\n");
    loadFails("drain_port = -1\n");
    loadFails("drain_port =\n");
    EXPECT_EQ(loadOk("drain_port = 65535\n").login.drainPort, 65535);
    EXPECT_EQ(loadFails("home_pop3_port = 0\n").rfind("t.conf:3: home_pop3_port: invalid port", 0),
              0u);
    loadFails("home_lmtp_port = 65536\n");
    loadFails("home_managesieve_port = x\n");
    loadFails("home_submission_port =\n");
    loadFails("home_doveadm_port = -1\n");
    loadFails("home_doveadm_port = 00\n");
    EXPECT_EQ(loadOk("home_doveadm_port = 0\n").decision.ports.doveadm, 0);
}

TEST(SettingsErrors, Durations) {
    EXPECT_NE(loadFails("ldap_timeout = 3 s\n").find("t.conf:3: ldap_timeout: invalid duration"),
              std::string::npos);
    loadFails("ldap_timeout = 1d\n");
    loadFails("ldap_timeout = -1\n");
    loadFails("cache_ttl = 9999999999h\n");
    EXPECT_EQ(loadFails("ldap_timeout = 0\n"), "t.conf:3: ldap_timeout: must be greater than zero");
    loadFails("ldap_connect_timeout = 0ms\n");
    EXPECT_EQ(loadOk("negative_cache_ttl = 0\n").directory.negativeCacheTtlMs, 0);
}

TEST(SettingsErrors, Counts) {
    EXPECT_EQ(loadFails("mailbox_max_entries = 0\n"),
              "t.conf:3: mailbox_max_entries: out of range (1..10000000)");
    loadFails("cache_size = lots\n");
    loadFails("cache_size = 1e6\n");
}

TEST(SettingsErrors, ByteSizes) {
    EXPECT_EQ(loadOk("").directory.cacheMaxBytes, size_t(64) << 20);
    EXPECT_EQ(loadOk("cache_max_bytes = 0\n").directory.cacheMaxBytes, 0u);
    EXPECT_EQ(loadOk("cache_max_bytes = 1500\n").directory.cacheMaxBytes, 1500u);
    EXPECT_EQ(loadOk("cache_max_bytes = 16k\n").directory.cacheMaxBytes, 16384u);
    EXPECT_EQ(loadOk("cache_max_bytes = 2G\n").directory.cacheMaxBytes, size_t(2) << 30);
    loadFails("cache_max_bytes = M\n");
    loadFails("cache_max_bytes = 64MB\n");
    loadFails("cache_max_bytes = -1\n");
    loadFails("cache_max_bytes = 1.5G\n");
    loadFails("cache_max_bytes = 2048G\n");  // above 1 TiB
    EXPECT_NE(loadFails("cache_max_bytes = 9 M\n").find("cache_max_bytes"), std::string::npos);
}

TEST(SettingsErrors, Enumerations) {
    EXPECT_EQ(loadFails("default_policy = reject\n"),
              "t.conf:3: default_policy: expected refer, suggest, proxy, proxy-suggest or local");
    loadFails("user_scope = subtree\n");
    loadFails("ldap_tls_require_cert = hard\n");
    loadFails("ldap_sasl_mech = GSSAPI\n");
    loadFails("auth_in_url = plain\n");
    loadFails("mailbox_referral_mode = optin\n");
    loadFails("unknown_user_policy = proxy\n");
    EXPECT_EQ(loadFails("insecure_policy = refer\n"),
              "t.conf:3: insecure_policy: expected proxy or local (a referral is what it replaces)");
    loadFails("insecure_policy = suggest\n");
    // insecure_policy replaces a referral, and proxy-suggest's hint is one.
    EXPECT_EQ(loadFails("insecure_policy = proxy-suggest\n"),
              "t.conf:3: insecure_policy: expected proxy or local (a referral is what it replaces)");
}

// Issue 11: proxy-suggest wherever a policy is chosen (ASCII case-insensitive).
TEST(Settings, ProxySuggestPolicyEverywhere_R2221_10) {
    const Settings s = loadOk("default_policy = Proxy-Suggest\n"
                              "client_id_rule = proxy-suggest Thunderbird*\n"
                              "listener_rule = PROXY-SUGGEST 192.0.2.1:143\n");
    EXPECT_EQ(s.decision.defaultPolicy, ReferralPolicy::ProxySuggest);
    ASSERT_EQ(s.decision.clientIdRules.size(), 1u);
    EXPECT_EQ(s.decision.clientIdRules[0].policy, ReferralPolicy::ProxySuggest);
    EXPECT_EQ(s.decision.clientIdRules[0].pattern, "Thunderbird*");
    ASSERT_EQ(s.decision.listenerRules.size(), 1u);
    EXPECT_EQ(s.decision.listenerRules[0].policy, ReferralPolicy::ProxySuggest);
    EXPECT_EQ(loadFails("default_policy = proxy_suggest\n"),
              "t.conf:3: default_policy: expected refer, suggest, proxy, proxy-suggest or local");
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

TEST(SettingsErrors, LocalNames) {
    // REQUIREMENTS §2.6 item 3: the allow-list must be a list of host patterns.
    EXPECT_EQ(loadFails("allowed_hosts = home1.example.org/x\n"),
              "t.conf:3: allowed_hosts: 'home1.example.org/x' is not a host name pattern "
              "(letters, digits, . - _ : and the wildcards * ?)");
    EXPECT_EQ(loadFails("allowed_hosts = ,\n"),
              "t.conf:3: allowed_hosts: expected at least one host pattern");
    loadFails("allowed_hosts = " + std::string(256, 'a') + "\n");
    EXPECT_EQ(loadFails("local_names = front_1.example\n"),
              "t.conf:3: local_names: 'front_1.example' is not a host name, IPv4 or IPv6 address");
    loadFails("local_names = front:0\n");
    loadFails("local_names = front:\n");
    loadFails("local_names = [::1\n");
    loadFails("local_names = [::1]x\n");
    loadFails("local_names = 1::2::3\n");
    loadFails("local_names = a]b\n");
    EXPECT_TRUE(loadOk("local_names =\n").decision.localNames.empty());
}

TEST(SettingsErrors, ClientIdRules) {
    EXPECT_EQ(loadFails("client_id_rule = refer\n"),
              "t.conf:3: client_id_rule: expected \"<policy> <pattern>\"");
    loadFails("client_id_rule = bounce Alpine*\n");
    loadFails("client_id_rule = refer Entw\xC3\xBCrfe\n");
    loadFails("client_id_rule = refer " + std::string(257, 'a') + "\n");
    const Settings s = loadOk("client_id_rule = local   Foo  Bar\n");
    ASSERT_EQ(s.decision.clientIdRules.size(), 1u);
    EXPECT_EQ(s.decision.clientIdRules[0].pattern, "Foo  Bar");
}

TEST(SettingsErrors, ListenerRules) {
    EXPECT_EQ(loadFails("listener_rule = refer host.example\n"),
              "t.conf:3: listener_rule: 'host.example' is not an IP address or '*'");
    loadFails("listener_rule = refer\n");
    loadFails("listener_rule = refer 192.0.2.1:0\n");
    loadFails("listener_rule = refer 192.0.2.1:\n");
    loadFails("listener_rule = refer [::1]\n");
    loadFails("listener_rule = refer 999.0.0.1\n");
    EXPECT_EQ(loadOk("listener_rule = proxy *:993\n").decision.listenerRules[0].port, 993);
}

TEST(SettingsErrors, WireTexts_R3501_2) {
    EXPECT_EQ(loadFails("referral_text = [ALERT] moved\n"),
              "t.conf:3: referral_text: must be 1-200 printable US-ASCII characters, not starting with "
              "'[' or a space");
    loadFails("referral_text =\n");
    loadFails("drain_text = Wartung l\xC3\xA4uft\n");
    loadFails("mailbox_referral_text = " + std::string(201, 'x') + "\n");
    loadFails("mailbox_referral_text = \" padded\"\n");
    loadFails("drain_text = a\tb\n");
    EXPECT_EQ(loadOk("drain_text = a]b\n").login.drainText, "a]b");
}

TEST(SettingsErrors, DrainHost_D4) {
    EXPECT_EQ(loadFails("drain_host = 2001:db8::1\n"),
              "t.conf:3: drain_host: '2001:db8::1' is not a valid host name or IPv4 address (no IPv6: "
              "D-4)");
    loadFails("drain_host = [::1]\n");
    loadFails("drain_host = maint]\n");
    loadFails("drain_host = main_t.example\n");
    loadFails("drain_host = host.example:143\n");
    EXPECT_EQ(loadOk("drain_host = 192.0.2.9\n").login.drainHost, "192.0.2.9");
}

TEST(SettingsErrors, ControlCharactersInStrings) {
    EXPECT_EQ(loadFails("ldap_bind_dn = cn=a\tb\n"), "t.conf:3: ldap_bind_dn: control character in value");
    loadFails("ldap_bind_password = a\x7f\n");
    loadFails("mailbox_shared_base = ou=\xFF\n");
}

TEST(SettingsErrors, Dependencies) {
    EXPECT_EQ(loadFails("proxy_tls = yes\n"), "t.conf:3: proxy_tls: expected none, tls or starttls");
    EXPECT_EQ(loadFails("proxy_tls_verify = any-cert\n"),
              "t.conf:3: proxy_tls_verify: expected yes, no, true or false, not 'any-cert'");
    EXPECT_NE(loadFails("proxy_timeout = 500ms\n").find("t.conf:3: proxy_timeout: expected whole seconds"),
              std::string::npos);
    EXPECT_EQ(loadFails("proxy_master_user = master\n"),
              "t.conf: proxy_master_password: required when proxy_master_user is set");
    EXPECT_EQ(loadFails("ldap_bind_password = x\n"),
              "t.conf: ldap_bind_password: set without ldap_bind_dn");
}

TEST(SettingsErrors, FailureLeavesOutputUntouched) {
    Settings s;
    s.path = "before";
    std::string error;
    EXPECT_FALSE(loadText(std::string(kRequired) + "bogus = 1\n", &s, &error));
    EXPECT_EQ(s.path, "before");
}

TEST(Settings, LoadFromMissingPath) {
    Settings s;
    std::string error;
    EXPECT_FALSE(loadSettingsFromPath("/nonexistent/x.conf", &s, &error));
    EXPECT_EQ(error.rfind("/nonexistent/x.conf: cannot open", 0), 0u) << error;
}

TEST(Settings, Durations) {
    int ms = -1;
    EXPECT_TRUE(parseDurationMs("250ms", &ms));
    EXPECT_EQ(ms, 250);
    EXPECT_TRUE(parseDurationMs("3s", &ms));
    EXPECT_EQ(ms, 3000);
    EXPECT_TRUE(parseDurationMs("3", &ms));
    EXPECT_EQ(ms, 3000);
    EXPECT_TRUE(parseDurationMs("2m", &ms));
    EXPECT_EQ(ms, 120000);
    EXPECT_TRUE(parseDurationMs("1h", &ms));
    EXPECT_EQ(ms, 3600000);
    EXPECT_TRUE(parseDurationMs("596h", &ms));  // just below INT_MAX ms
    EXPECT_FALSE(parseDurationMs("597h", &ms));
    EXPECT_TRUE(parseDurationMs("2147483647ms", &ms));
    EXPECT_FALSE(parseDurationMs("2147483648ms", &ms));
    EXPECT_FALSE(parseDurationMs("99999999999", &ms));
    for (const char* bad : {"", "s", "ms", "-1", "1.5s", "1 s", "1sec", "1d", "0x10", " 1"}) {
        EXPECT_FALSE(parseDurationMs(bad, &ms)) << bad;
    }
}

}  // namespace
}  // namespace dref
