// decide() per protocol (protocol.h, referral_decision.h step 0 and 4a;
// issue 14, docs/protocols.md): only IMAP is referred, every other
// protocol with a session on the mailbox goes to the home server by proxy,
// on that protocol's port.
#include <gtest/gtest.h>

#include <string>

#include "protocol.h"
#include "referral_decision.h"

namespace dref {
namespace {

// One decide() call: fred's directory entry (home1, the IMAP port of his
// URL), a client of the front, and the site's settings.
class Case {
public:
    Case(Protocol protocol, ReferralPolicy policy) {
        record.dn = "uid=fred,ou=people,dc=example,dc=test";
        record.home = HomeServer{"home1.example.org", 10143};
        client.loginUser = "fred";
        client.localIp = "192.0.2.1";
        client.localPort = 110;
        client.secured = true;
        client.protocol = protocol;
        settings.localNames = {"front.example.org", "192.0.2.1"};
        settings.defaultPolicy = policy;
    }
    Decision run() const { return decide(status, record, client, settings); }
    std::string why() const { return decisionWhy(run(), record, client); }

    UserRecord record;
    ClientFacts client;
    DecisionSettings settings;
    LookupStatus status = LookupStatus::Found;
};

const Protocol kRoutedNonImap[] = {Protocol::Pop3, Protocol::Lmtp, Protocol::ManageSieve,
                                   Protocol::Submission, Protocol::Doveadm};
const ReferralPolicy kAwayPolicies[] = {ReferralPolicy::Refer, ReferralPolicy::Suggest,
                                        ReferralPolicy::Proxy, ReferralPolicy::ProxySuggest};

TEST(ProtocolFromService, DovecotServiceNames) {
    EXPECT_EQ(protocolFromService("imap"), Protocol::Imap);
    EXPECT_EQ(protocolFromService("IMAP"), Protocol::Imap);
    EXPECT_EQ(protocolFromService("pop3"), Protocol::Pop3);
    EXPECT_EQ(protocolFromService("lmtp"), Protocol::Lmtp);
    EXPECT_EQ(protocolFromService("sieve"), Protocol::ManageSieve);  // Pigeonhole's name
    EXPECT_EQ(protocolFromService("managesieve"), Protocol::ManageSieve);
    EXPECT_EQ(protocolFromService("submission"), Protocol::Submission);
    EXPECT_EQ(protocolFromService("doveadm"), Protocol::Doveadm);
    EXPECT_EQ(protocolFromService("smtp"), Protocol::Other);  // Postfix SASL
    EXPECT_EQ(protocolFromService(""), Protocol::Other);
    EXPECT_EQ(protocolFromService("imap4"), Protocol::Other);
    EXPECT_EQ(protocolFromService(std::string("imap\0x", 6)), Protocol::Other);
}

TEST(ProtocolFromService, NamesRoundTrip) {
    for (Protocol p : kRoutedNonImap) EXPECT_EQ(protocolFromService(protocolName(p)), p);
    EXPECT_EQ(protocolFromService(protocolName(Protocol::Imap)), Protocol::Imap);
    EXPECT_STREQ(protocolName(Protocol::Other), "other");
}

TEST(ProtocolFromService, WhoLogsInOnTheHomeServer) {
    EXPECT_TRUE(proxyLogsIn(Protocol::Imap));
    EXPECT_TRUE(proxyLogsIn(Protocol::Pop3));
    EXPECT_TRUE(proxyLogsIn(Protocol::ManageSieve));
    EXPECT_TRUE(proxyLogsIn(Protocol::Submission));
    EXPECT_FALSE(proxyLogsIn(Protocol::Lmtp));
    EXPECT_FALSE(proxyLogsIn(Protocol::Doveadm));
}

// Issue 14 item 1: no referral outside IMAP, whatever the policy and
// wherever it comes from (user, client ID, listener, default).
TEST(ProtocolDecision, EveryAwayPolicyIsProxyOutsideImap) {
    for (Protocol p : kRoutedNonImap) {
        for (ReferralPolicy policy : kAwayPolicies) {
            Case in(p, ReferralPolicy::Local);
            in.record.policy = policy;
            Decision d = in.run();
            EXPECT_EQ(d.kind, DecisionKind::Proxy) << protocolName(p) << " " << referralPolicyName(policy);
            EXPECT_EQ(d.source, "user");
            EXPECT_EQ(d.target.host, "home1.example.org");
            EXPECT_EQ(d.targetUser, "fred");
            if (policy != ReferralPolicy::Proxy) {
                EXPECT_NE(in.why().find(std::string(referralPolicyName(policy)) + " is proxy for " +
                                        protocolName(p)),
                          std::string::npos)
                    << in.why();
            } else {
                EXPECT_EQ(in.why().find(" is proxy for "), std::string::npos) << in.why();
            }

            in = Case(p, policy);
            EXPECT_EQ(in.run().kind, DecisionKind::Proxy) << protocolName(p);
            EXPECT_EQ(in.run().source, "default");
        }
    }
}

TEST(ProtocolDecision, ClientIdAndListenerRulesMapToProxyToo) {
    Case in(Protocol::Pop3, ReferralPolicy::Proxy);
    in.settings.listenerRules = {{"*", 0, ReferralPolicy::Refer}};
    EXPECT_EQ(in.run().kind, DecisionKind::Proxy);
    EXPECT_EQ(in.run().source, "listener");
    in.settings.clientIdRules = {{"*", ReferralPolicy::Suggest}};
    EXPECT_EQ(in.run().kind, DecisionKind::Proxy);
    EXPECT_EQ(in.run().source, "client-id");
}

TEST(ProtocolDecision, ImapKeepsItsPolicy) {
    EXPECT_EQ(Case(Protocol::Imap, ReferralPolicy::Refer).run().kind, DecisionKind::Refer);
    EXPECT_EQ(Case(Protocol::Imap, ReferralPolicy::Suggest).run().kind, DecisionKind::Suggest);
    EXPECT_EQ(Case(Protocol::Imap, ReferralPolicy::Proxy).run().kind, DecisionKind::Proxy);
    EXPECT_EQ(Case(Protocol::Imap, ReferralPolicy::ProxySuggest).run().kind,
              DecisionKind::ProxySuggest);
    EXPECT_EQ(Case(Protocol::Imap, ReferralPolicy::Local).run().kind, DecisionKind::Local);
}

TEST(ProtocolDecision, LocalPolicyIsLocalEverywhere) {
    for (Protocol p : kRoutedNonImap) {
        Decision d = Case(p, ReferralPolicy::Local).run();
        EXPECT_EQ(d.kind, DecisionKind::Local) << protocolName(p);
        EXPECT_EQ(d.source, "default");
    }
}

// R2221-3/D-11: the home server is this server -> served here.  The check
// uses the directory's home (IMAP port) for every protocol.
TEST(ProtocolDecision, SelfIsLocalForEveryProtocol_D11) {
    for (Protocol p : kRoutedNonImap) {
        Case in(p, ReferralPolicy::Proxy);
        in.record.home = HomeServer{"front.example.org", 143};
        EXPECT_EQ(in.run().kind, DecisionKind::Local) << protocolName(p);
        EXPECT_EQ(in.run().source, "self");
        in.settings.localNames = {"front.example.org:143"};
        EXPECT_EQ(in.run().kind, DecisionKind::Local) << protocolName(p);
    }
}

// Issue 14 item 2: each protocol's port; the IMAP URL's port is IMAP's only.
TEST(ProtocolDecision, PortPerProtocol) {
    EXPECT_EQ(Case(Protocol::Imap, ReferralPolicy::Proxy).run().target.port, 10143);
    EXPECT_EQ(Case(Protocol::Pop3, ReferralPolicy::Proxy).run().target.port, 110);
    EXPECT_EQ(Case(Protocol::Lmtp, ReferralPolicy::Proxy).run().target.port, 24);
    EXPECT_EQ(Case(Protocol::ManageSieve, ReferralPolicy::Proxy).run().target.port, 4190);
    EXPECT_EQ(Case(Protocol::Submission, ReferralPolicy::Proxy).run().target.port, 587);
    EXPECT_EQ(Case(Protocol::Doveadm, ReferralPolicy::Proxy).run().target.port, 0);
    Case in(Protocol::Pop3, ReferralPolicy::Refer);
    in.settings.ports.pop3 = 10110;
    Decision d = in.run();
    EXPECT_EQ(d.target.port, 10110);
    EXPECT_NE(in.why().find("home1.example.org:10110"), std::string::npos) << in.why();
    in = Case(Protocol::Doveadm, ReferralPolicy::Proxy);
    EXPECT_NE(in.why().find("proxy to home1.example.org ("), std::string::npos) << in.why();
}

// Issue 14 item 3: directory down -> temporary failure, never a local session (for
// LMTP: never a local delivery of a remote user's mail).
TEST(ProtocolDecision, DirectoryDownIsTempFail) {
    for (Protocol p : kRoutedNonImap) {
        Case in(p, ReferralPolicy::Proxy);
        in.status = LookupStatus::Unavailable;
        EXPECT_EQ(in.run().kind, DecisionKind::TempFail) << protocolName(p);
    }
}

// D-17 and allowed_hosts: no usable home -> Reject on every protocol.
TEST(ProtocolDecision, NoUsableHomeIsRejectedOnEveryProtocol_D17) {
    for (Protocol p : kRoutedNonImap) {
        Case in(p, ReferralPolicy::Refer);
        in.record.home.reset();
        EXPECT_EQ(in.run().kind, DecisionKind::Reject) << protocolName(p);
        in = Case(p, ReferralPolicy::Refer);
        in.settings.allowedHosts = {"*.example.net"};
        EXPECT_EQ(in.run().kind, DecisionKind::Reject) << protocolName(p);
        EXPECT_EQ(in.run().source, "not-allowed");
    }
}

// refer_insecure = no is about referrals in clear text; outside IMAP there
// is none, so its fallback (here: local) never applies.
TEST(ProtocolDecision, InsecureRuleIsImapOnly) {
    Case in(Protocol::Pop3, ReferralPolicy::Refer);
    in.client.secured = false;
    in.settings.referInsecure = false;
    in.settings.insecureFallback = ReferralPolicy::Local;
    EXPECT_EQ(in.run().kind, DecisionKind::Proxy);
    in.client.protocol = Protocol::Imap;
    EXPECT_EQ(in.run().kind, DecisionKind::Local);
    EXPECT_EQ(in.run().source, "insecure");
}

TEST(ProtocolDecision, NotFoundFollowsUnknownUserPolicy) {
    Case in(Protocol::Lmtp, ReferralPolicy::Proxy);
    in.status = LookupStatus::NotFound;
    in.record = UserRecord{};
    EXPECT_EQ(in.run().kind, DecisionKind::Local);
    in.settings.notFoundIsLocal = false;
    EXPECT_EQ(in.run().kind, DecisionKind::Reject);
}

// A service without a session to route (Postfix SASL "smtp", unknown
// names): authentication only, whatever the directory says.
TEST(ProtocolDecision, OtherServicesAreAuthenticationOnly) {
    for (LookupStatus st : {LookupStatus::Found, LookupStatus::NotFound, LookupStatus::Unavailable}) {
        Case in(Protocol::Other, ReferralPolicy::Refer);
        in.status = st;
        Decision d = in.run();
        EXPECT_EQ(d.kind, DecisionKind::Local);
        EXPECT_EQ(d.source, "protocol");
    }
}

TEST(ProtocolDecision, DirectoryIdentityOnEveryProtocol_D18) {
    Case in(Protocol::Lmtp, ReferralPolicy::Proxy);
    in.record.referralUser = "fred@example.org";
    EXPECT_EQ(in.run().targetUser, "fred@example.org");
}

}  // namespace
}  // namespace dref
