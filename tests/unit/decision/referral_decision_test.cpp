// decide(): ARCHITECTURE.md §3 and the rules documented in referral_decision.h.
// Every row names the requirement it checks.
#include "referral_decision.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace dref {
namespace {

struct Input {
    LookupStatus status = LookupStatus::Found;
    UserRecord record;
    ClientFacts client;
    DecisionSettings settings;
};

Input baseInput() {
    Input in;
    in.record.dn = "uid=fred,ou=people,dc=example,dc=test";
    in.record.home = HomeServer{"home1.example.org", 143};
    in.client.loginUser = "fred";
    in.client.localIp = "192.0.2.1";
    in.client.localPort = 143;
    in.client.secured = true;
    in.settings.localNames = {"front.example.org", "192.0.2.1", "front2.example.org:10143"};
    in.settings.defaultPolicy = ReferralPolicy::Refer;
    return in;
}

struct Row {
    const char* name;
    const char* requirement;
    std::function<void(Input&)> setup;
    DecisionKind kind;
    const char* source;
};

void setHome(Input& in, const char* host, uint16_t port = 143) { in.record.home = HomeServer{host, port}; }

const Row kRows[] = {
    // --- loops: self is Local whatever the policy (R2221-3, R2193-3, D-11)
    {"self_by_name", "R2221-3/D-11", [](Input& in) { setHome(in, "front.example.org"); },
     DecisionKind::Local, "self"},
    {"self_by_name_other_case", "R2221-3/D-11", [](Input& in) { setHome(in, "FRONT.Example.ORG"); },
     DecisionKind::Local, "self"},
    {"self_by_name_trailing_dot_entry", "D-11",
     [](Input& in) {
         in.settings.localNames = {"front.example.org."};
         setHome(in, "front.example.org");
     },
     DecisionKind::Local, "self"},
    {"self_by_address", "R2193-3/D-11", [](Input& in) { setHome(in, "192.0.2.1", 993); },
     DecisionKind::Local, "self"},
    {"self_host_port_entry_same_port", "D-11", [](Input& in) { setHome(in, "front2.example.org", 10143); },
     DecisionKind::Local, "self"},
    {"host_port_entry_other_port_is_not_self", "D-11",
     [](Input& in) { setHome(in, "front2.example.org", 143); }, DecisionKind::Refer, "default"},
    {"self_beats_user_policy", "R2221-3",
     [](Input& in) {
         setHome(in, "front.example.org");
         in.record.policy = ReferralPolicy::Refer;
     },
     DecisionKind::Local, "self"},
    {"self_beats_proxy_default", "R2193-3",
     [](Input& in) {
         setHome(in, "192.0.2.1");
         in.settings.defaultPolicy = ReferralPolicy::Proxy;
     },
     DecisionKind::Local, "self"},
    {"self_even_when_insecure", "D-11",
     [](Input& in) {
         setHome(in, "front.example.org");
         in.client.secured = false;
         in.settings.referInsecure = false;
     },
     DecisionKind::Local, "self"},
    {"suffix_is_not_self", "D-11", [](Input& in) { setHome(in, "xfront.example.org"); },
     DecisionKind::Refer, "default"},
    {"ipv6_entries_parse_without_matching_names", "D-11",
     [](Input& in) {
         in.settings.localNames = {"::1", "[2001:db8::1]:143", "bad:port:x", "[unclosed", "host:0"};
         setHome(in, "host");
     },
     DecisionKind::Refer, "default"},
    {"no_local_names_refers", "D-11", [](Input& in) { in.settings.localNames.clear(); },
     DecisionKind::Refer, "default"},

    // --- missing or malformed home server never gives a URL (D-17)
    {"no_home_reject", "D-17", [](Input& in) { in.record.home.reset(); }, DecisionKind::Reject, "no-home"},
    {"malformed_home_reject", "D-17",
     [](Input& in) {
         in.record.home.reset();
         in.record.homeError = "invalid host name 'a]b'";
     },
     DecisionKind::Reject, "no-home"},
    {"no_home_proxy_policy_reject", "D-17",
     [](Input& in) {
         in.record.home.reset();
         in.record.policy = ReferralPolicy::Proxy;
     },
     DecisionKind::Reject, "no-home"},
    {"no_home_suggest_policy_reject", "D-17",
     [](Input& in) {
         in.record.home.reset();
         in.settings.defaultPolicy = ReferralPolicy::Suggest;
     },
     DecisionKind::Reject, "no-home"},
    {"no_home_local_policy_is_local", "D-17",
     [](Input& in) {
         in.record.home.reset();
         in.record.policy = ReferralPolicy::Local;
     },
     DecisionKind::Local, "user"},

    // --- precedence: user > client-id > listener > default
    {"default_refer", "R2221-12", [](Input&) {}, DecisionKind::Refer, "default"},
    {"default_proxy", "R2221-12/ARCH-3", [](Input& in) { in.settings.defaultPolicy = ReferralPolicy::Proxy; },
     DecisionKind::Proxy, "default"},
    {"default_suggest", "R2221-10", [](Input& in) { in.settings.defaultPolicy = ReferralPolicy::Suggest; },
     DecisionKind::Suggest, "default"},
    {"default_local", "R2221-12/ARCH-3", [](Input& in) { in.settings.defaultPolicy = ReferralPolicy::Local; },
     DecisionKind::Local, "default"},
    {"user_beats_client_id_and_listener", "R2221-12/ARCH-3",
     [](Input& in) {
         in.record.policy = ReferralPolicy::Proxy;
         in.client.clientIdName = "Alpine";
         in.settings.clientIdRules = {{"alpine*", ReferralPolicy::Refer}};
         in.settings.listenerRules = {{"*", 0, ReferralPolicy::Local}};
     },
     DecisionKind::Proxy, "user"},
    {"client_id_beats_listener", "R2221-12/ARCH-3",
     [](Input& in) {
         in.client.clientIdName = "Thunderbird";
         in.settings.clientIdRules = {{"thunder*", ReferralPolicy::Proxy}};
         in.settings.listenerRules = {{"*", 0, ReferralPolicy::Refer}};
     },
     DecisionKind::Proxy, "client-id"},
    {"client_id_first_match_wins", "R2221-12/ARCH-3",
     [](Input& in) {
         in.client.clientIdName = "Alpine 2.26";
         in.settings.clientIdRules = {{"Alpine*", ReferralPolicy::Refer}, {"*", ReferralPolicy::Proxy}};
         in.settings.defaultPolicy = ReferralPolicy::Proxy;
     },
     DecisionKind::Refer, "client-id"},
    {"client_id_no_match_falls_to_listener", "R2221-12/ARCH-3",
     [](Input& in) {
         in.client.clientIdName = "Outlook";
         in.settings.clientIdRules = {{"Alpine*", ReferralPolicy::Refer}};
         in.settings.listenerRules = {{"192.0.2.1", 143, ReferralPolicy::Proxy}};
     },
     DecisionKind::Proxy, "listener"},
    {"empty_client_id_only_matches_star", "D-8",
     [](Input& in) {
         in.settings.clientIdRules = {{"?*", ReferralPolicy::Local}, {"*", ReferralPolicy::Proxy}};
     },
     DecisionKind::Proxy, "client-id"},
    {"listener_by_address", "R2221-12/ARCH-3",
     [](Input& in) { in.settings.listenerRules = {{"192.0.2.1", 0, ReferralPolicy::Proxy}}; },
     DecisionKind::Proxy, "listener"},
    {"listener_mapped_ipv4", "R2221-12/ARCH-3",
     [](Input& in) {
         in.client.localIp = "::FFFF:192.0.2.1";
         in.settings.listenerRules = {{"192.0.2.1", 0, ReferralPolicy::Proxy}};
     },
     DecisionKind::Proxy, "listener"},
    {"listener_port_mismatch", "R2221-12/ARCH-3",
     [](Input& in) { in.settings.listenerRules = {{"*", 993, ReferralPolicy::Proxy}}; },
     DecisionKind::Refer, "default"},
    {"listener_address_mismatch", "R2221-12/ARCH-3",
     [](Input& in) { in.settings.listenerRules = {{"192.0.2.9", 0, ReferralPolicy::Proxy}}; },
     DecisionKind::Refer, "default"},
    {"listener_first_match_wins", "R2221-12/ARCH-3",
     [](Input& in) {
         in.settings.listenerRules = {{"*", 143, ReferralPolicy::Suggest}, {"*", 0, ReferralPolicy::Proxy}};
     },
     DecisionKind::Suggest, "listener"},
    {"user_local_policy", "R2221-12/ARCH-3", [](Input& in) { in.record.policy = ReferralPolicy::Local; },
     DecisionKind::Local, "user"},

    // --- proxy-suggest (issue 11): accepted wherever a policy is
    {"default_proxy_suggest", "R2221-10",
     [](Input& in) { in.settings.defaultPolicy = ReferralPolicy::ProxySuggest; },
     DecisionKind::ProxySuggest, "default"},
    {"user_proxy_suggest", "R2221-10",
     [](Input& in) { in.record.policy = ReferralPolicy::ProxySuggest; },
     DecisionKind::ProxySuggest, "user"},
    {"client_id_proxy_suggest", "R2221-10",
     [](Input& in) {
         in.client.clientIdName = "Thunderbird";
         in.settings.clientIdRules = {{"thunder*", ReferralPolicy::ProxySuggest}};
     },
     DecisionKind::ProxySuggest, "client-id"},
    {"listener_proxy_suggest", "R2221-10",
     [](Input& in) { in.settings.listenerRules = {{"*", 143, ReferralPolicy::ProxySuggest}}; },
     DecisionKind::ProxySuggest, "listener"},
    {"self_beats_proxy_suggest", "R2221-3/D-11",
     [](Input& in) {
         setHome(in, "front.example.org");
         in.record.policy = ReferralPolicy::ProxySuggest;
     },
     DecisionKind::Local, "self"},
    {"no_home_proxy_suggest_reject", "D-17",
     [](Input& in) {
         in.record.home.reset();
         in.settings.defaultPolicy = ReferralPolicy::ProxySuggest;
     },
     DecisionKind::Reject, "no-home"},
    {"host_outside_allow_list_no_proxy_suggest", "§2.6-3",
     [](Input& in) {
         in.settings.allowedHosts = {"*.example.net"};
         in.record.policy = ReferralPolicy::ProxySuggest;
     },
     DecisionKind::Reject, "not-allowed"},
    {"insecure_proxy_suggest_allowed_by_default", "R5092-19",
     [](Input& in) {
         in.client.secured = false;
         in.settings.defaultPolicy = ReferralPolicy::ProxySuggest;
     },
     DecisionKind::ProxySuggest, "default"},
    // The hint is a referral: over clear text with refer_insecure = no the
    // user gets insecure_policy instead.
    {"insecure_proxy_suggest_falls_back_to_proxy", "R5092-19",
     [](Input& in) {
         in.client.secured = false;
         in.settings.referInsecure = false;
         in.record.policy = ReferralPolicy::ProxySuggest;
     },
     DecisionKind::Proxy, "insecure"},
    {"insecure_proxy_suggest_falls_back_to_local", "R5092-19",
     [](Input& in) {
         in.client.secured = false;
         in.settings.referInsecure = false;
         in.settings.defaultPolicy = ReferralPolicy::ProxySuggest;
         in.settings.insecureFallback = ReferralPolicy::Local;
     },
     DecisionKind::Local, "insecure"},
    {"insecure_fallback_proxy_suggest_is_reject", "R5092-19",
     [](Input& in) {
         in.client.secured = false;
         in.settings.referInsecure = false;
         in.settings.insecureFallback = ReferralPolicy::ProxySuggest;
     },
     DecisionKind::Reject, "insecure"},
    {"secured_proxy_suggest_when_insecure_disallowed", "R5092-19",
     [](Input& in) {
         in.settings.referInsecure = false;
         in.settings.defaultPolicy = ReferralPolicy::ProxySuggest;
     },
     DecisionKind::ProxySuggest, "default"},

    // --- no referral in clear text unless allowed (REQUIREMENTS §2.6.5)
    {"insecure_allowed_by_default", "R5092-19", [](Input& in) { in.client.secured = false; },
     DecisionKind::Refer, "default"},
    {"insecure_refer_falls_back_to_proxy", "R5092-19",
     [](Input& in) {
         in.client.secured = false;
         in.settings.referInsecure = false;
     },
     DecisionKind::Proxy, "insecure"},
    {"insecure_suggest_falls_back_to_local", "R5092-19",
     [](Input& in) {
         in.client.secured = false;
         in.settings.referInsecure = false;
         in.record.policy = ReferralPolicy::Suggest;
         in.settings.insecureFallback = ReferralPolicy::Local;
     },
     DecisionKind::Local, "insecure"},
    {"insecure_fallback_refer_is_reject", "R5092-19",
     [](Input& in) {
         in.client.secured = false;
         in.settings.referInsecure = false;
         in.settings.insecureFallback = ReferralPolicy::Refer;
     },
     DecisionKind::Reject, "insecure"},
    {"insecure_proxy_unaffected", "R5092-19",
     [](Input& in) {
         in.client.secured = false;
         in.settings.referInsecure = false;
         in.settings.defaultPolicy = ReferralPolicy::Proxy;
         in.settings.insecureFallback = ReferralPolicy::Local;
     },
     DecisionKind::Proxy, "default"},
    {"secured_refers_even_when_insecure_disallowed", "R5092-19",
     [](Input& in) { in.settings.referInsecure = false; }, DecisionKind::Refer, "default"},

    // --- allow-list of target hosts (REQUIREMENTS §2.6 item 3, RFC 5092 §3.2)
    {"allowed_host_refers", "§2.6-3",
     [](Input& in) { in.settings.allowedHosts = {"home?.example.org"}; }, DecisionKind::Refer,
     "default"},
    {"allowed_host_case_and_trailing_dot", "§2.6-3",
     [](Input& in) {
         in.settings.allowedHosts = {"*.EXAMPLE.org"};
         setHome(in, "Home1.Example.Org.");
     },
     DecisionKind::Refer, "default"},
    {"host_outside_allow_list_no_referral", "§2.6-3",
     [](Input& in) {
         in.settings.allowedHosts = {"*.example.net", "192.0.2.*"};
         setHome(in, "evil.example.org");
     },
     DecisionKind::Reject, "not-allowed"},
    {"host_outside_allow_list_no_proxy", "§2.6-3",
     [](Input& in) {
         in.settings.allowedHosts = {"*.example.net"};
         in.settings.defaultPolicy = ReferralPolicy::Proxy;
     },
     DecisionKind::Reject, "not-allowed"},
    {"host_outside_allow_list_user_policy_suggest", "§2.6-3",
     [](Input& in) {
         in.settings.allowedHosts = {"*.example.net"};
         in.record.policy = ReferralPolicy::Suggest;
     },
     DecisionKind::Reject, "not-allowed"},
    {"self_needs_no_allow_list_entry", "§2.6-3/D-11",
     [](Input& in) {
         in.settings.allowedHosts = {"*.example.net"};
         setHome(in, "front.example.org");
     },
     DecisionKind::Local, "self"},
    {"local_policy_needs_no_allow_list_entry", "§2.6-3",
     [](Input& in) {
         in.settings.allowedHosts = {"*.example.net"};
         in.record.policy = ReferralPolicy::Local;
     },
     DecisionKind::Local, "user"},

    // --- directory outcomes
    {"unavailable_tempfail", "D-17", [](Input& in) { in.status = LookupStatus::Unavailable; },
     DecisionKind::TempFail, "directory"},
    {"unavailable_beats_self", "D-17",
     [](Input& in) {
         in.status = LookupStatus::Unavailable;
         setHome(in, "front.example.org");
     },
     DecisionKind::TempFail, "directory"},
    {"not_found_local", "R2221-15", [](Input& in) { in.status = LookupStatus::NotFound; },
     DecisionKind::Local, "not-found"},
    {"not_found_reject", "R2221-15",
     [](Input& in) {
         in.status = LookupStatus::NotFound;
         in.settings.notFoundIsLocal = false;
     },
     DecisionKind::Reject, "not-found"},
};

class DecisionTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(DecisionTableTest, Decides) {
    const Row& row = GetParam();
    Input in = baseInput();
    row.setup(in);
    const Decision d = decide(in.status, in.record, in.client, in.settings);
    // The log text, built apart from the decision (a warm login builds none).
    const std::string why = decisionWhy(d, in.record, in.client);
    EXPECT_EQ(decisionKindName(d.kind), std::string(decisionKindName(row.kind)))
        << row.requirement << ": " << why;
    EXPECT_EQ(d.source, row.source) << row.requirement << ": " << why;
    EXPECT_FALSE(why.empty());
    for (unsigned char c : why) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << why;
    // D-18 on every row.
    EXPECT_EQ(d.targetUser, "fred");
    if (d.kind == DecisionKind::Refer || d.kind == DecisionKind::Suggest ||
        d.kind == DecisionKind::Proxy || d.kind == DecisionKind::ProxySuggest) {
        ASSERT_TRUE(in.record.home);
        EXPECT_EQ(d.target.host, in.record.home->host);
        EXPECT_EQ(d.target.port, in.record.home->port);
    }
}

INSTANTIATE_TEST_SUITE_P(Rules, DecisionTableTest, ::testing::ValuesIn(kRows),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Decision, TargetUserIsReferralUserWhenSet_D18) {
    Input in = baseInput();
    in.record.referralUser = "fred@example.org";
    const Decision d = decide(in.status, in.record, in.client, in.settings);
    EXPECT_EQ(d.kind, DecisionKind::Refer);
    EXPECT_EQ(d.targetUser, "fred@example.org");
}

TEST(Decision, TargetIsHomeWithPort) {
    Input in = baseInput();
    setHome(in, "home2.example.org", 10143);
    in.settings.defaultPolicy = ReferralPolicy::Proxy;
    const Decision d = decide(in.status, in.record, in.client, in.settings);
    EXPECT_EQ(d.kind, DecisionKind::Proxy);
    EXPECT_EQ(d.target.host, "home2.example.org");
    EXPECT_EQ(d.target.port, 10143);
}

TEST(Decision, WhyNamesHomeErrorSafely_D17) {
    Input in = baseInput();
    in.record.home.reset();
    in.record.homeError = "bad value \r\n* BYE";
    const Decision d = decide(in.status, in.record, in.client, in.settings);
    EXPECT_EQ(d.kind, DecisionKind::Reject);
    const std::string why = decisionWhy(d, in.record, in.client);
    EXPECT_NE(why.find("bad value"), std::string::npos);
    EXPECT_EQ(why.find('\r'), std::string::npos);
    EXPECT_EQ(why.find('\n'), std::string::npos);
}

TEST(Decision, WhyNamesTheHostOutsideTheAllowList) {
    Input in = baseInput();
    in.settings.allowedHosts = {"*.example.net"};
    setHome(in, "evil\r\n.example.org", 993);
    const Decision d = decide(in.status, in.record, in.client, in.settings);
    EXPECT_EQ(d.kind, DecisionKind::Reject);
    const std::string why = decisionWhy(d, in.record, in.client);
    EXPECT_NE(why.find("is not in allowed_hosts"), std::string::npos) << why;
    EXPECT_EQ(why.find('\r'), std::string::npos);
    EXPECT_EQ(why.find('\n'), std::string::npos);
}

TEST(Decision, IsAllowedTarget) {
    EXPECT_TRUE(isAllowedTarget("anything.example", {}));
    EXPECT_TRUE(isAllowedTarget("imap1.example.net", {"imap?.example.net"}));
    EXPECT_FALSE(isAllowedTarget("imap10.example.net", {"imap?.example.net"}));
    EXPECT_FALSE(isAllowedTarget("example.net.evil.org", {"*.example.net"}));
    EXPECT_TRUE(isAllowedTarget("192.0.2.77", {"10.*", "192.0.2.*"}));
    EXPECT_FALSE(isAllowedTarget("192.0.20.77", {"192.0.2.*"}));
    EXPECT_FALSE(isAllowedTarget("", {"*"}));
    EXPECT_FALSE(isAllowedTarget(".", {"*"}));
}

TEST(Decision, IsThisServer) {
    const std::vector<std::string> names = {"a.example", "b.example:993", "10.0.0.1", "[::1]:143",
                                            "2001:db8::2"};
    EXPECT_TRUE(isThisServer({"A.EXAMPLE", 143}, names));
    EXPECT_TRUE(isThisServer({"a.example.", 1}, names));
    EXPECT_TRUE(isThisServer({"b.example", 993}, names));
    EXPECT_FALSE(isThisServer({"b.example", 143}, names));
    EXPECT_TRUE(isThisServer({"10.0.0.1", 10143}, names));
    EXPECT_FALSE(isThisServer({"10.0.0.10", 143}, names));
    EXPECT_FALSE(isThisServer({"", 143}, names));
    EXPECT_FALSE(isThisServer({"a.example", 143}, {}));
    EXPECT_FALSE(isThisServer({"a.example", 143}, {"", ":143", "a.example:", "a.example:99999"}));
}

TEST(Decision, KindNames) {
    EXPECT_STREQ(decisionKindName(DecisionKind::Local), "local");
    EXPECT_STREQ(decisionKindName(DecisionKind::Refer), "refer");
    EXPECT_STREQ(decisionKindName(DecisionKind::Suggest), "suggest");
    EXPECT_STREQ(decisionKindName(DecisionKind::Proxy), "proxy");
    EXPECT_STREQ(decisionKindName(DecisionKind::ProxySuggest), "proxy-suggest");
    EXPECT_STREQ(decisionKindName(DecisionKind::TempFail), "tempfail");
    EXPECT_STREQ(decisionKindName(DecisionKind::Reject), "reject");
}

TEST(ReferralPolicy, ParseAndName) {
    for (auto p : {ReferralPolicy::Refer, ReferralPolicy::Suggest, ReferralPolicy::Proxy,
                   ReferralPolicy::ProxySuggest, ReferralPolicy::Local}) {
        EXPECT_EQ(parseReferralPolicy(referralPolicyName(p)), p);
    }
    EXPECT_EQ(parseReferralPolicy("REFER"), ReferralPolicy::Refer);
    EXPECT_STREQ(referralPolicyName(ReferralPolicy::ProxySuggest), "proxy-suggest");
    EXPECT_EQ(parseReferralPolicy("Proxy-Suggest"), ReferralPolicy::ProxySuggest);
    EXPECT_FALSE(parseReferralPolicy("proxy_suggest"));
    EXPECT_FALSE(parseReferralPolicy("proxy-suggest "));
    EXPECT_FALSE(parseReferralPolicy("proxysuggest"));
    EXPECT_FALSE(parseReferralPolicy(""));
    EXPECT_FALSE(parseReferralPolicy("refer "));
    EXPECT_FALSE(parseReferralPolicy("reject"));
}

}  // namespace
}  // namespace dref
