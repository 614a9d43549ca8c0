// The mailbox relay's connections to owning servers (issue 12 item 3,
// plugin/core/mailbox_relay/relay_connection): the settings keys, their checks,
// the imapc values they become, and the bound on relayed entries per
// session with its NO [LIMIT] verdict (mailbox_relay.h).
#include "relay_connection.h"

#include <gtest/gtest.h>

#include <memory>

#include "mailbox_relay.h"
#include "../mailbox_session/mailbox_session_test_util.h"
#include "settings_file.h"

using dref::ImapcConnection;
using dref::MailboxCommand;
using dref::MailboxReferralMode;
using dref::MailboxVerdict;
using dref::ProxyTls;
using dref::RelayConnectionSettings;
using dref::Settings;

namespace {

const char kRelay[] =
    "ldap_uris = ldap://127.0.0.1\nuser_base = dc=example\n"
    "mailbox_referral_mode = opt-in\nmailbox_relay = yes\n"
    "mailbox_relay_master_user = relay\nmailbox_relay_master_password = pw\n";

bool load(const std::string& extra, Settings* s, std::string* error) {
    dref::SettingsFile file;
    if (!dref::parseSettingsText(std::string(kRelay) + extra, "relay.conf", &file, error))
        return false;
    return dref::loadSettings(file, s, error);
}

}  // namespace

TEST(RelayConnectionTest, DefaultsArePlainThirtySecondsTenMailboxes) {
    Settings s;
    std::string error;
    ASSERT_TRUE(load("", &s, &error)) << error;
    const RelayConnectionSettings& c = s.mailbox.relayConnection;
    EXPECT_EQ(c.tls, ProxyTls::None);
    EXPECT_TRUE(c.verifyCertificate);
    EXPECT_EQ(c.caFile, "");
    EXPECT_EQ(c.timeoutSeconds, 30);  // not Dovecot's imapc_cmd_timeout of 5 min
    EXPECT_EQ(c.maxMailboxes, 10u);
    const ImapcConnection i = dref::imapcConnectionFor(c, 143);
    EXPECT_STREQ(i.ssl, "no");
    EXPECT_EQ(i.port, 143);
    EXPECT_EQ(i.timeoutSeconds, 30u);
}

TEST(RelayConnectionTest, KeysAreParsed) {
    Settings s;
    std::string error;
    ASSERT_TRUE(load("mailbox_relay_tls = STARTTLS\nmailbox_relay_tls_verify = no\n"
                     "mailbox_relay_tls_ca_file = /etc/ssl/relay-ca.pem\n"
                     "mailbox_relay_timeout = 2m\nmailbox_relay_max_mailboxes = 3\n"
                     "mailbox_relay_tls_port = 10993\n",
                     &s, &error))
        << error;
    const RelayConnectionSettings& c = s.mailbox.relayConnection;
    EXPECT_EQ(c.tls, ProxyTls::StartTls);
    EXPECT_FALSE(c.verifyCertificate);
    EXPECT_EQ(c.caFile, "/etc/ssl/relay-ca.pem");
    EXPECT_EQ(c.timeoutSeconds, 120);
    EXPECT_EQ(c.maxMailboxes, 3u);
    EXPECT_EQ(c.tlsPort, 10993);
}

TEST(RelayConnectionTest, BadValuesAreRefusedWithTheKey) {
    Settings s;
    std::string error;
    struct Case {
        const char* line;
        const char* expected;
    } cases[] = {
        {"mailbox_relay_tls = imaps\n", "mailbox_relay_tls: expected none, tls or starttls"},
        {"mailbox_relay_timeout = 0\n", "mailbox_relay_timeout: must be between 1s and 1h"},
        {"mailbox_relay_timeout = 2h\n", "mailbox_relay_timeout: must be between 1s and 1h"},
        {"mailbox_relay_timeout = 500ms\n", "mailbox_relay_timeout: expected whole seconds"},
        {"mailbox_relay_max_mailboxes = 0\n", "mailbox_relay_max_mailboxes:"},
        {"mailbox_relay_tls_port = 0\n", "mailbox_relay_tls_port:"},
        {"mailbox_relay_tls_verify = maybe\n", "mailbox_relay_tls_verify:"},
        // Settings that would do nothing, or depend on the process's directory.
        {"mailbox_relay_tls_ca_file = /ca.pem\n",
         "mailbox_relay_tls_ca_file: has no effect with mailbox_relay_tls = none"},
        {"mailbox_relay_tls_verify = no\n",
         "mailbox_relay_tls_verify: has no effect with mailbox_relay_tls = none"},
        {"mailbox_relay_tls = tls\nmailbox_relay_tls_ca_file = ca.pem\n",
         "mailbox_relay_tls_ca_file: must be an absolute path"},
    };
    for (const Case& c : cases) {
        error.clear();
        EXPECT_FALSE(load(c.line, &s, &error)) << c.line;
        EXPECT_NE(error.find(c.expected), std::string::npos) << c.line << " -> " << error;
    }
}

TEST(RelayConnectionTest, TlsModesBecomeImapcValues) {
    RelayConnectionSettings c;
    c.tls = ProxyTls::StartTls;
    c.caFile = "/ca.pem";
    ImapcConnection i = dref::imapcConnectionFor(c, 10143);
    EXPECT_STREQ(i.ssl, "starttls");
    EXPECT_EQ(i.port, 10143);  // STARTTLS: the URL's (plain IMAP) port
    EXPECT_EQ(i.caFile, "/ca.pem");
    EXPECT_TRUE(i.verifyCertificate);

    c.tls = ProxyTls::Tls;
    c.tlsPort = 10993;
    c.verifyCertificate = false;
    i = dref::imapcConnectionFor(c, 10143);
    EXPECT_STREQ(i.ssl, "imaps");
    EXPECT_EQ(i.port, 10993);  // implicit TLS: not the port the referral URL names
    EXPECT_FALSE(i.verifyCertificate);

    c.tls = ProxyTls::None;
    i = dref::imapcConnectionFor(c, 10143);
    EXPECT_STREQ(i.ssl, "no");
    EXPECT_EQ(i.caFile, "");
}

TEST(RelayConnectionTest, TheBoundCountsRelayedEntries) {
    RelayConnectionSettings c;
    c.maxMailboxes = 2;
    EXPECT_TRUE(dref::relayAdmitsAnother(c, 0));
    EXPECT_TRUE(dref::relayAdmitsAnother(c, 1));
    EXPECT_FALSE(dref::relayAdmitsAnother(c, 2));
    EXPECT_FALSE(dref::relayAdmitsAnother(c, 3));
}

TEST(RelayConnectionTest, BeyondTheBoundRemoteNamesAnswerLimit) {
    auto settings = std::make_shared<Settings>();
    settings->mailbox.relay = true;
    settings->mailbox.mode = MailboxReferralMode::OptIn;
    settings->mailbox.relayMasterUser = "relay";
    settings->mailbox.relayMasterPassword = "secret";
    settings->mailbox.relayConnection.maxMailboxes = 1;
    auto session = dref::testing_session::loadedSession(
        settings, {dref::testing_session::remoteMailbox("Shared/Projects", "home2.test",
                                                        std::nullopt, "")});
    // Below the bound: as without it (the glue makes the namespace; a name
    // left outside one answers as a name that does not exist here).
    MailboxVerdict v = dref::decideOutsideRelayNamespace(*session, "Shared/Projects",
                                                          MailboxCommand::Select, 0);
    EXPECT_EQ(v.kind, session->decide("Shared/Projects", MailboxCommand::Select).kind);
    // At the bound: NO [LIMIT] with a text, for the entry and its inferiors.
    for (const char* name : {"Shared/Projects", "Shared/Projects/2026"}) {
        v = dref::decideOutsideRelayNamespace(*session, name, MailboxCommand::Select, 1);
        EXPECT_EQ(v.kind, MailboxVerdict::Kind::Refuse) << name;
        EXPECT_EQ(v.error.rfind("[LIMIT] ", 0), 0u) << v.error;
    }
    // Local names, LIST, and a session that is referred are not bounded.
    EXPECT_EQ(dref::decideOutsideRelayNamespace(*session, "INBOX", MailboxCommand::Select, 5).kind,
              MailboxVerdict::Kind::Local);
    EXPECT_NE(dref::decideOutsideRelayNamespace(*session, "Shared/Projects", MailboxCommand::List, 5)
                  .kind,
              MailboxVerdict::Kind::Refuse);
    session->optIn();
    EXPECT_EQ(dref::decideOutsideRelayNamespace(*session, "Shared/Projects",
                                                MailboxCommand::Select, 5).kind,
              MailboxVerdict::Kind::Refer);
}
