// Settings (settings.h, settings_values.h): each kind of value (booleans,
// ports, durations, counts, byte sizes, enumerations) and its errors.
#include "settings_test_util.h"

namespace dref::testing_settings {

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

}  // namespace dref::testing_settings
