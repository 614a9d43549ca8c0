// The shipped conf.d/dovecot-referral.conf.ext and the parser never drift:
// it loads as shipped, it documents every key, and its commented defaults
// ("#key = value") are the compiled-in defaults.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "settings.h"

#ifndef DREF_SAMPLE_SETTINGS_FILE
#error "DREF_SAMPLE_SETTINGS_FILE must name conf.d/dovecot-referral.conf.ext"
#endif

namespace dref {
namespace {

std::string readSample() {
    std::ifstream in(DREF_SAMPLE_SETTINGS_FILE, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// "#key = value" lines whose key is a setting (prose comments start "# ").
std::string uncommentDefaults(const std::string& text, std::set<std::string>* keys) {
    static const std::regex kDefault("^#([a-z][a-z0-9_]*) =( .*)?$");
    std::stringstream in(text);
    std::string out, line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, kDefault)) {
            keys->insert(m[1]);
            out += line.substr(1) + "\n";
        } else {
            out += line + "\n";
        }
    }
    return out;
}

TEST(SampleSettings, LoadsAsShipped) {
    Settings s;
    std::string error;
    ASSERT_TRUE(loadSettingsFromPath(DREF_SAMPLE_SETTINGS_FILE, &s, &error)) << error;
    EXPECT_EQ(s.directory.uris.size(), 2u);
    EXPECT_FALSE(s.directory.userBase.empty());
}

TEST(SampleSettings, OnlyRequiredKeysAreSet) {
    SettingsFile f;
    std::string error;
    ASSERT_TRUE(readSettingsFile(DREF_SAMPLE_SETTINGS_FILE, &f, &error)) << error;
    std::set<std::string> set;
    for (const auto& line : f.lines) set.insert(line.key);
    EXPECT_EQ(set, (std::set<std::string>{"ldap_uris", "user_base"}));
}

TEST(SampleSettings, DocumentsEveryKey) {
    std::set<std::string> documented;
    uncommentDefaults(readSample(), &documented);
    documented.insert("ldap_uris");
    documented.insert("user_base");
    for (const auto& key : settingsKeys()) {
        EXPECT_TRUE(documented.count(key)) << key << " is not documented in the sample file";
    }
    for (const auto& key : documented) {
        const auto all = settingsKeys();
        EXPECT_NE(std::find(all.begin(), all.end(), key), all.end())
            << key << " is documented but unknown to the parser";
    }
}

TEST(SampleSettings, CommentedDefaultsAreTheCompiledDefaults) {
    std::set<std::string> keys;
    const std::string text = uncommentDefaults(readSample(), &keys);
    SettingsFile f;
    std::string error;
    ASSERT_TRUE(parseSettingsText(text, "uncommented", &f, &error)) << error;
    Settings s;
    ASSERT_TRUE(loadSettings(f, &s, &error)) << error;
    const Settings d;
    const auto& a = s.directory;
    const auto& b = d.directory;
    EXPECT_EQ(a.bindDn, b.bindDn);
    EXPECT_EQ(a.bindPassword, b.bindPassword);
    EXPECT_EQ(a.saslMech, b.saslMech);
    EXPECT_EQ(a.startTls, b.startTls);
    EXPECT_EQ(a.tlsCaFile, b.tlsCaFile);
    EXPECT_EQ(a.tlsRequireCert, b.tlsRequireCert);
    EXPECT_EQ(a.connectTimeoutMs, b.connectTimeoutMs);
    EXPECT_EQ(a.timeoutMs, b.timeoutMs);
    EXPECT_EQ(a.backoffMaxMs, b.backoffMaxMs);
    EXPECT_EQ(a.chaseReferrals, b.chaseReferrals);
    EXPECT_EQ(a.userScope, b.userScope);
    EXPECT_EQ(a.userFilter, b.userFilter);
    EXPECT_EQ(a.homeServerAttribute, b.homeServerAttribute);
    EXPECT_EQ(a.homePort, b.homePort);
    EXPECT_EQ(a.homeUrlAttribute, b.homeUrlAttribute);
    EXPECT_EQ(a.policyAttribute, b.policyAttribute);
    EXPECT_EQ(a.referralUserAttribute, b.referralUserAttribute);
    EXPECT_EQ(a.mailboxSharedBase, b.mailboxSharedBase);
    EXPECT_EQ(a.mailboxFilter, b.mailboxFilter);
    EXPECT_EQ(a.mailboxNameAttribute, b.mailboxNameAttribute);
    EXPECT_EQ(a.mailboxUrlAttribute, b.mailboxUrlAttribute);
    EXPECT_EQ(a.mailboxMaxEntries, b.mailboxMaxEntries);
    EXPECT_EQ(a.cacheTtlMs, b.cacheTtlMs);
    EXPECT_EQ(a.negativeCacheTtlMs, b.negativeCacheTtlMs);
    EXPECT_EQ(a.cacheSize, b.cacheSize);
    EXPECT_EQ(s.decision.localNames, d.decision.localNames);
    EXPECT_EQ(s.decision.defaultPolicy, d.decision.defaultPolicy);
    EXPECT_EQ(s.decision.referInsecure, d.decision.referInsecure);
    EXPECT_EQ(s.decision.insecureFallback, d.decision.insecureFallback);
    EXPECT_EQ(s.decision.notFoundIsLocal, d.decision.notFoundIsLocal);
    EXPECT_EQ(s.decision.ports.pop3, d.decision.ports.pop3);
    EXPECT_EQ(s.decision.ports.lmtp, d.decision.ports.lmtp);
    EXPECT_EQ(s.decision.ports.managesieve, d.decision.ports.managesieve);
    EXPECT_EQ(s.decision.ports.submission, d.decision.ports.submission);
    EXPECT_EQ(s.decision.ports.doveadm, d.decision.ports.doveadm);
    EXPECT_EQ(s.login.referralText, d.login.referralText);
    EXPECT_EQ(s.login.authMechanismInUrl, d.login.authMechanismInUrl);
    EXPECT_EQ(s.login.proxyMasterUser, d.login.proxyMasterUser);
    EXPECT_EQ(s.login.proxyMasterPassword, d.login.proxyMasterPassword);
    EXPECT_EQ(s.login.proxyConnection.tls, d.login.proxyConnection.tls);
    EXPECT_EQ(s.login.proxyConnection.verifyCertificate, d.login.proxyConnection.verifyCertificate);
    EXPECT_EQ(s.login.proxyConnection.timeoutSeconds, d.login.proxyConnection.timeoutSeconds);
    EXPECT_EQ(s.login.drainHost, d.login.drainHost);
    EXPECT_EQ(s.login.drainPort, d.login.drainPort);
    EXPECT_EQ(s.login.drainText, d.login.drainText);
    EXPECT_EQ(s.mailbox.enabled, d.mailbox.enabled);
    EXPECT_EQ(s.mailbox.mode, d.mailbox.mode);
    EXPECT_EQ(s.mailbox.referStatus, d.mailbox.referStatus);
    EXPECT_EQ(s.mailbox.referRename, d.mailbox.referRename);
    EXPECT_EQ(s.mailbox.referCopy, d.mailbox.referCopy);
    EXPECT_EQ(s.mailbox.referCreate, d.mailbox.referCreate);
    EXPECT_EQ(s.mailbox.referralText, d.mailbox.referralText);
    // The repeatable keys are shown as examples, and they must parse too.
    EXPECT_FALSE(s.decision.clientIdRules.empty());
    EXPECT_FALSE(s.decision.listenerRules.empty());
}

}  // namespace
}  // namespace dref
