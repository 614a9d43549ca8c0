// checkBackendLoginReferral(): which home server referrals to a proxied
// login the front follows (docs/dovecot-2.4.md, "2.4's proxy and referrals").
#include "backend_referral.h"
#include "response_text.h"

#include <gtest/gtest.h>

#include <string>

namespace dref {
namespace {

DecisionSettings siteSettings() {
    DecisionSettings s;
    s.localNames = {"front.example.org", "192.0.2.1", "front2.example.org:10143"};
    s.allowedHosts = {"*.homes.example.org", "198.51.100.*"};
    return s;
}

FrontFacts front() {
    FrontFacts f;
    f.listenerIp = "192.0.2.40";
    f.defaultPort = 143;
    return f;
}

BackendReferralCheck check(const std::string& reply, const DecisionSettings& s = siteSettings(),
                           const FrontFacts& f = front()) {
    return checkBackendLoginReferral(reply, s, f);
}

void expectRefused(const std::string& reply, const std::string& whyPart,
                   const DecisionSettings& s = siteSettings(), const FrontFacts& f = front()) {
    const BackendReferralCheck c = check(reply, s, f);
    EXPECT_EQ(c.verdict, BackendReferralVerdict::Refuse) << reply;
    EXPECT_NE(c.why.find(whyPart), std::string::npos) << reply << " -> " << c.why;
    // The reason is for the log: never a raw control byte.
    for (char ch : c.why) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << c.why;
}

TEST(BackendReferral, LinesThatAreNoReferralAreLeftAlone) {
    for (const char* reply : {"OK [CAPABILITY IMAP4rev1] Logged in",
                              "NO [AUTHENTICATIONFAILED] Authentication failed.",
                              "NO [UNAVAILABLE] Account is temporarily unavailable.",
                              "NO Authentication failed.", "NO", "", "BAD [REFERRAL imap://x/]",
                              "OK [REFERRAL imap://u;AUTH=*@h.homes.example.org/] Logged in",
                              "NO [REFERRALS imap://u@evil.example/] x",
                              "NO [REFERRAL\timap://u@evil.example/] x",
                              "NO x [REFERRAL imap://u@evil.example/]"}) {
        const BackendReferralCheck c = check(reply);
        EXPECT_EQ(c.verdict, BackendReferralVerdict::NotReferral) << reply;
        EXPECT_TRUE(c.why.empty()) << reply;
    }
}

TEST(BackendReferral, FollowsAnAllowedHostThatIsNotThisServer) {
    BackendReferralCheck c =
        check("NO [REFERRAL imap://ann;AUTH=PLAIN@b.homes.example.org:10143/] Moved.");
    EXPECT_EQ(c.verdict, BackendReferralVerdict::Follow);
    EXPECT_EQ(c.host, "b.homes.example.org");
    EXPECT_EQ(c.port, 10143);
    EXPECT_TRUE(c.why.empty());

    // No port in the URL: the redirect keeps the current backend's port.
    FrontFacts f = front();
    f.defaultPort = 10993;
    c = check("NO [REFERRAL imap://ann@198.51.100.7/] x", siteSettings(), f);
    EXPECT_EQ(c.verdict, BackendReferralVerdict::Follow);
    EXPECT_EQ(c.host, "198.51.100.7");
    EXPECT_EQ(c.port, 10993);

    // Code and scheme in any case; no text after "]"; no "/".
    EXPECT_EQ(check("no [referral IMAP://ann@198.51.100.7]").verdict,
              BackendReferralVerdict::Follow);
    // allowed_hosts empty: any valid host that is not this server.
    DecisionSettings open = siteSettings();
    open.allowedHosts.clear();
    EXPECT_EQ(check("NO [REFERRAL imap://ann@elsewhere.example.net/] x", open).verdict,
              BackendReferralVerdict::Follow);
}

TEST(BackendReferral, RefusesHostsOutsideAllowedHosts) {
    expectRefused("NO [REFERRAL imap://ann;AUTH=PLAIN@203.0.113.9:143/] Moved.",
                  "\"203.0.113.9\" is not in allowed_hosts");
    expectRefused("NO [REFERRAL imap://ann@evil.example/] x", "not in allowed_hosts");
    // The glob is for the host, not for a suffix of it.
    expectRefused("NO [REFERRAL imap://ann@homes.example.org.evil.example/] x",
                  "not in allowed_hosts");
    const BackendReferralCheck c = check("NO [REFERRAL imap://ann@203.0.113.9:10143/] x");
    EXPECT_EQ(c.host, "203.0.113.9");
    EXPECT_EQ(c.port, 10143);
}

TEST(BackendReferral, RefusesThisServer) {
    DecisionSettings open = siteSettings();
    open.allowedHosts.clear();
    // local_names, any port
    expectRefused("NO [REFERRAL imap://ann@192.0.2.1:9143/] x", "is this server (local_names)",
                  open);
    expectRefused("NO [REFERRAL imap://ann@FRONT.example.org/] x", "this server", open);
    // local_names host:port: only that port (default port = the backend's)
    expectRefused("NO [REFERRAL imap://ann@front2.example.org:10143/] x", "this server", open);
    FrontFacts f = front();
    f.defaultPort = 10143;
    expectRefused("NO [REFERRAL imap://ann@front2.example.org/] x", "this server", open, f);
    EXPECT_EQ(check("NO [REFERRAL imap://ann@front2.example.org:143/] x", open).verdict,
              BackendReferralVerdict::Follow);
    // The listener address, any port, also when allowed_hosts lists it.
    DecisionSettings allowsFront = siteSettings();
    allowsFront.allowedHosts.push_back("192.0.2.40");
    expectRefused("NO [REFERRAL imap://ann@192.0.2.40:10143/] x",
                  "the address the client connected to", allowsFront);
    f = front();
    f.listenerIp = "::ffff:192.0.2.40";
    expectRefused("NO [REFERRAL imap://ann@192.0.2.40/] x", "connected to", allowsFront, f);
    // Back to the front and outside allowed_hosts: the log names the loop.
    expectRefused("NO [REFERRAL imap://ann@192.0.2.40/] x", "connected to");
    expectRefused("NO [REFERRAL imap://ann@192.0.2.1/] x", "(local_names)");
    // Unknown listener: only local_names decide.
    f.listenerIp.clear();
    EXPECT_EQ(check("NO [REFERRAL imap://ann@192.0.2.40/] x", allowsFront, f).verdict,
              BackendReferralVerdict::Follow);
}

TEST(BackendReferral, RefusesWhatItCannotReadExactly) {
    expectRefused("NO [REFERRAL] x", "without a URL");
    expectRefused("NO [REFERRAL ] x", "without a URL");
    expectRefused("NO [REFERRAL imap://ann@b.homes.example.org/", "without ']'");
    expectRefused(
        "NO [REFERRAL imap://ann@b.homes.example.org/ imap://ann@evil.example/] Moved.",
        "more than one URL");
    expectRefused("NO [REFERRAL  imap://ann@b.homes.example.org/] x", "more than one URL");
    // IPv6 literals: never a target of ours (D-4), and "]" ends the code early.
    expectRefused("NO [REFERRAL imap://ann@[::1]:143/] x", "unusable URL");
    expectRefused("NO [REFERRAL imap://ann@[2001:db8::1]/] x", "unusable URL");
    // Relative, other schemes, empty host, bad port.
    expectRefused("NO [REFERRAL //b.homes.example.org/] x", "unusable URL");
    expectRefused("NO [REFERRAL http://b.homes.example.org/] x", "unusable URL");
    expectRefused("NO [REFERRAL imap://ann@/] x", "unusable URL");
    expectRefused("NO [REFERRAL imap://ann@b.homes.example.org:0/] x", "unusable URL");
    expectRefused("NO [REFERRAL imap://ann@b.homes.example.org:65536/] x", "unusable URL");
    expectRefused("NO [REFERRAL imap://ann@b.homes.example.org:14x/] x", "unusable URL");
    // Two '@': which one splits user and host differs between parsers.
    expectRefused("NO [REFERRAL imap://ann@evil.example@b.homes.example.org/] x",
                  "unusable URL");
    // Search, fragment, URLAUTH.
    expectRefused("NO [REFERRAL imap://ann@b.homes.example.org?x/] x", "unusable URL");
    expectRefused("NO [REFERRAL imap://ann@b.homes.example.org/#x] x", "unusable URL");
    // Host names that are not names: trailing dot, octal, underscore.
    expectRefused("NO [REFERRAL imap://ann@b.homes.example.org./] x", "unusable URL");
    expectRefused("NO [REFERRAL imap://ann@198.51.100.07/] x", "unusable URL");
}

TEST(BackendReferral, RefusesControlBytesAndQuotesThemInTheLog) {
    expectRefused(std::string("NO [REFERRAL imap://ann@b.homes.example.org\r\n.evil/] x"),
                  "unusable URL \"imap://ann@b.homes.example.org\\x0D\\x0A.evil/\"");
    expectRefused(std::string("NO [REFERRAL imap://ann@b.homes.example.org\r/] x"),
                  "unusable URL");
    expectRefused(std::string("NO [REFERRAL imap://a\x01nn@b.homes.example.org/] x"),
                  "\\x01");
    expectRefused(std::string("NO [REFERRAL imap://\xc3\xa4@b.homes.example.org/] x"),
                  "\\xC3\\xA4");
    expectRefused("NO [REFERRAL imap://ann@b.homes.example.org/\x7f] x", "unusable URL");
}

TEST(BackendReferral, TheUserPartDoesNotChooseTheHost) {
    // An encoded '@' and a host:port in the user part: the host is after
    // the one unencoded '@'.
    BackendReferralCheck c =
        check("NO [REFERRAL imap://x%40203.0.113.9%3A143;AUTH=*@b.homes.example.org/] x");
    EXPECT_EQ(c.verdict, BackendReferralVerdict::Follow);
    EXPECT_EQ(c.host, "b.homes.example.org");
    c = check("NO [REFERRAL imap://b.homes.example.org%40203.0.113.9@203.0.113.9/] x");
    EXPECT_EQ(c.verdict, BackendReferralVerdict::Refuse);
    EXPECT_EQ(c.host, "203.0.113.9");
    // A password in the user part (an unencoded ':'): not an IMAP URL user,
    // and a parser that takes ':' as the port separator would read another
    // authority.
    expectRefused("NO [REFERRAL imap://ann:secret@b.homes.example.org/] x",
                  "':' must be percent-encoded");
    expectRefused("NO [REFERRAL imap://x:143@203.0.113.9/] x", "unusable URL");
    // No user at all (anonymous form) is still a URL with a host.
    EXPECT_EQ(check("NO [REFERRAL imap://b.homes.example.org/] x").verdict,
              BackendReferralVerdict::Follow);
}

TEST(BackendReferral, OverlongUrlIsRefused) {
    const std::string url = "imap://ann@" + std::string(2100, 'a') + ".homes.example.org/";
    expectRefused("NO [REFERRAL " + url + "] x", "unusable URL");
    // The log line stays short.
    EXPECT_LT(check("NO [REFERRAL " + url + "] x").why.size(), 400u);
}

TEST(BackendReferral, RefusalTextIsWireSafe) {
    EXPECT_TRUE(isWireSafeText(kBackendReferralRefusedText));
    EXPECT_EQ(std::string(kBackendReferralRefusedText).find("imap://"), std::string::npos);
}

}  // namespace
}  // namespace dref
