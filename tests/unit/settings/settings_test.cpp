// Typed settings (settings.h): loading a file, every key typed, the errors
// of the file as a whole, each with the exact "<file>:<line>: <key>:
// <message>" form.  Per value kind: settings_values_test.cpp; per section:
// settings_directory_test.cpp, settings_decision_test.cpp,
// settings_login_test.cpp.
#include "settings_test_util.h"

namespace dref::testing_settings {

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

}  // namespace dref::testing_settings
