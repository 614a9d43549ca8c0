// The proxy's connection to the home server as Dovecot passdb fields
// (issue 14 item 6: TLS to the home servers, proxy timeout).
#include "proxy_connection.h"

#include <gtest/gtest.h>

#include <map>

namespace dref {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields fieldsFor(ProxyTls tls, bool verify, int timeout) {
    ProxyConnectionSettings set;
    set.tls = tls;
    set.verifyCertificate = verify;
    set.timeoutSeconds = timeout;
    Fields f;
    appendProxyConnectionFields(set, &f);
    return f;
}

TEST(ProxyConnection, DefaultsAddNoField) {
    EXPECT_TRUE(fieldsFor(ProxyTls::None, true, 0).empty());
    // Verification off means nothing without TLS.
    EXPECT_TRUE(fieldsFor(ProxyTls::None, false, 0).empty());
    EXPECT_EQ(proxyConnectionNote(ProxyConnectionSettings{}), "");
}

TEST(ProxyConnection, TlsVerifiesByDefault) {
    EXPECT_EQ(fieldsFor(ProxyTls::Tls, true, 0), (Fields{{"ssl", "yes"}}));
    EXPECT_EQ(fieldsFor(ProxyTls::StartTls, true, 0), (Fields{{"starttls", "yes"}}));
}

TEST(ProxyConnection, VerifyOffIsDovecotsAnyCert) {
    EXPECT_EQ(fieldsFor(ProxyTls::Tls, false, 0), (Fields{{"ssl", "any-cert"}}));
    EXPECT_EQ(fieldsFor(ProxyTls::StartTls, false, 0), (Fields{{"starttls", "any-cert"}}));
}

TEST(ProxyConnection, TimeoutInPlainSeconds) {
    EXPECT_EQ(fieldsFor(ProxyTls::None, true, 7), (Fields{{"proxy_timeout", "7"}}));
    EXPECT_EQ(fieldsFor(ProxyTls::StartTls, true, 120),
              (Fields{{"starttls", "yes"}, {"proxy_timeout", "120"}}));
}

TEST(ProxyConnection, LogNote) {
    ProxyConnectionSettings set;
    set.tls = ProxyTls::Tls;
    EXPECT_EQ(proxyConnectionNote(set), " over TLS");
    set.tls = ProxyTls::StartTls;
    EXPECT_EQ(proxyConnectionNote(set), " over STARTTLS");
    set.verifyCertificate = false;
    EXPECT_EQ(proxyConnectionNote(set), " over STARTTLS without certificate check");
}

TEST(ProxyConnection, ParseMode) {
    ProxyTls t = ProxyTls::None;
    EXPECT_TRUE(parseProxyTls("TLS", &t));
    EXPECT_EQ(t, ProxyTls::Tls);
    EXPECT_TRUE(parseProxyTls("starttls", &t));
    EXPECT_EQ(t, ProxyTls::StartTls);
    EXPECT_TRUE(parseProxyTls("none", &t));
    EXPECT_EQ(t, ProxyTls::None);
    for (const char* bad : {"", "yes", "ssl", "tls ", "start-tls", "any-cert"}) {
        t = ProxyTls::Tls;
        EXPECT_FALSE(parseProxyTls(bad, &t)) << bad;
        EXPECT_EQ(t, ProxyTls::Tls) << bad;
    }
    EXPECT_STREQ(proxyTlsName(ProxyTls::StartTls), "starttls");
}

TEST(ProxyConnection, ParseTimeout) {
    const std::map<std::string, int> good = {
        {"0", 0}, {"15", 15}, {"15s", 15}, {"2m", 120}, {"1h", 3600}, {"24h", 86400}, {"86400", 86400}};
    for (const auto& [text, secs] : good) {
        int v = -1;
        std::string why;
        EXPECT_TRUE(parseProxyTimeout(text, &v, &why)) << text << ": " << why;
        EXPECT_EQ(v, secs) << text;
    }
    for (const char* bad : {"", "s", "500ms", "1.5s", "-1", "10 s", "25h", "86401", "9999999",
                            "1d", "10x"}) {
        int v = 42;
        std::string why;
        EXPECT_FALSE(parseProxyTimeout(bad, &v, &why)) << bad;
        EXPECT_EQ(v, 42) << bad;
        EXPECT_FALSE(why.empty()) << bad;
    }
}

}  // namespace
}  // namespace dref
