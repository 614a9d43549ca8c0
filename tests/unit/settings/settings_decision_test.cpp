// Settings of the decision section (settings.h DecisionSettings): policies,
// local names and allowed hosts, client id and listener rules.
#include "settings_test_util.h"

namespace dref::testing_settings {

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

}  // namespace dref::testing_settings
