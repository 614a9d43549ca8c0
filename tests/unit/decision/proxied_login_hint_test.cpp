// The home server's OK to a proxied login, rewritten for policy proxy-suggest
// (plugin/core/proxied_login_hint.h; issue 11, R2221-10, R3501-3, D-13).
#include "proxied_login_hint.h"

#include <gtest/gtest.h>

namespace dref {
namespace {

TEST(ProxiedLoginHint, DovecotOkWithCapability_D13) {
    const BackendLoginOk ok =
        parseBackendLoginOk("[CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID] Logged in");
    EXPECT_TRUE(ok.hasCapability);
    EXPECT_EQ(ok.capability, "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID");
    EXPECT_EQ(ok.text, "Logged in");
}

TEST(ProxiedLoginHint, CapabilityCodeAnyCase) {
    const BackendLoginOk ok = parseBackendLoginOk("[capability IMAP4rev1 IDLE] Welcome");
    EXPECT_TRUE(ok.hasCapability);
    EXPECT_EQ(ok.capability, "IMAP4rev1 IDLE");
    EXPECT_EQ(ok.text, "Welcome");
}

TEST(ProxiedLoginHint, PlainTextHasNoCapability) {
    const BackendLoginOk ok = parseBackendLoginOk("LOGIN completed");
    EXPECT_FALSE(ok.hasCapability);
    EXPECT_EQ(ok.capability, "");
    EXPECT_EQ(ok.text, "LOGIN completed");
}

// One code per response (R3501-3): another code of the home server's makes
// way for REFERRAL; its text stays.
TEST(ProxiedLoginHint, OtherCodeIsDropped_R3501_3) {
    const BackendLoginOk ok = parseBackendLoginOk("[ALERT] Password expires soon");
    EXPECT_FALSE(ok.hasCapability);
    EXPECT_EQ(ok.text, "Password expires soon");
}

// What imap-login itself does not take for a capability code.
TEST(ProxiedLoginHint, CapabilityWithoutListIsNotCapability) {
    EXPECT_FALSE(parseBackendLoginOk("[CAPABILITY] x").hasCapability);
    EXPECT_FALSE(parseBackendLoginOk("[CAPABILITYX a] x").hasCapability);
    EXPECT_EQ(parseBackendLoginOk("[CAPABILITYX a] x").text, "x");
}

TEST(ProxiedLoginHint, UnclosedBracketIsText) {
    const BackendLoginOk ok = parseBackendLoginOk("[CAPABILITY IMAP4rev1 Logged in");
    EXPECT_FALSE(ok.hasCapability);
    EXPECT_EQ(ok.text, "[CAPABILITY IMAP4rev1 Logged in");
}

TEST(ProxiedLoginHint, EmptyText) {
    EXPECT_EQ(parseBackendLoginOk("").text, "");
    const BackendLoginOk ok = parseBackendLoginOk("[CAPABILITY IMAP4rev1]");
    EXPECT_TRUE(ok.hasCapability);
    EXPECT_EQ(ok.capability, "IMAP4rev1");
    EXPECT_EQ(ok.text, "");
}

// The line imap-login completes with the client's tag: exactly one code.
TEST(ProxiedLoginHint, HintedLine_R2221_10) {
    EXPECT_EQ(hintedBackendLoginOk("L ", "REFERRAL imap://alice;AUTH=*@home1.example.org/",
                                   "Logged in"),
              "L OK [REFERRAL imap://alice;AUTH=*@home1.example.org/] Logged in");
}

TEST(ProxiedLoginHint, MarkerFieldName) {
    // Dovecot 2.4 parses proxy_* passdb fields itself and sends forward_*
    // on to the home server: the marker must be neither.
    const std::string name = kProxyHintField;
    EXPECT_NE(name.rfind("proxy", 0), 0u);
    EXPECT_NE(name.rfind("forward_", 0), 0u);
    EXPECT_EQ(name, "referral_hint");
}

}  // namespace
}  // namespace dref
