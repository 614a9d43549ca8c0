// Relay of remote mailboxes (issue 12, plugin/core/mailbox_relay/mailbox_relay): when a
// session relays, where a name goes (entry, owner's name, login name), the
// verdict inside a relay namespace, and the settings that enable it.
#include "mailbox_relay.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../mailbox_session/mailbox_session_test_util.h"
#include "settings_file.h"

using dref::MailboxCommand;
using dref::MailboxReferralMode;
using dref::MailboxReferralSession;
using dref::MailboxVerdict;
using dref::RelayTarget;
using dref::RemoteMailbox;
using dref::Settings;

namespace {

RemoteMailbox remote(const std::string& name, const std::string& host, const std::string& user = "",
                     std::optional<std::string> mailbox = std::nullopt) {
    return dref::testing_session::remoteMailbox(name, host, std::move(mailbox), user);
}

struct Fixture {
    std::shared_ptr<Settings> settings = std::make_shared<Settings>();
    std::unique_ptr<MailboxReferralSession> session;

    Fixture() {
        settings->mailbox.relay = true;
        settings->mailbox.mode = MailboxReferralMode::OptIn;
        settings->mailbox.relayMasterUser = "relay";
        settings->mailbox.relayMasterPassword = "secret";
    }
    void start(std::vector<RemoteMailbox> mailboxes = {
                   remote("Shared/Projects", "home2.test"),
                   remote("Archive/2019", "home1.test", "carol.old", std::string("Old/2019"))}) {
        session = dref::testing_session::loadedSession(settings, mailboxes);
    }
};

bool loads(const std::string& text, std::string* error) {
    dref::SettingsFile file;
    if (!dref::parseSettingsText(text, "relay.conf", &file, error)) return false;
    Settings s;
    return dref::loadSettings(file, &s, error);
}

const char kBase[] = "ldap_uris = ldap://127.0.0.1\nuser_base = dc=example\n";

}  // namespace

TEST(MailboxRelayTest, RelaysOnlyWhileTheSessionIsNotReferred) {
    Fixture f;
    f.start();
    EXPECT_TRUE(dref::relaysRemoteMailboxes(*f.session));
    f.session->optIn();  // RLIST, RLSUB or LIST (REMOTE): referrals from now on (D-8)
    EXPECT_FALSE(dref::relaysRemoteMailboxes(*f.session));
}

TEST(MailboxRelayTest, NoRelayWithoutTheSettingOrBeforeTheTable) {
    Fixture f;
    f.settings->mailbox.relay = false;
    f.start();
    EXPECT_FALSE(dref::relaysRemoteMailboxes(*f.session));

    Fixture g;
    g.session = std::make_unique<MailboxReferralSession>(g.settings, "alice");
    g.session->startLoading(0);
    EXPECT_FALSE(dref::relaysRemoteMailboxes(*g.session));  // table still loading
    g.session->tableUnavailable(10);
    EXPECT_FALSE(dref::relaysRemoteMailboxes(*g.session));  // directory down: nothing known
}

TEST(MailboxRelayTest, EntryAndItsInferiorsGoToTheSameNamespace) {
    Fixture f;
    f.start();
    for (const char* name : {"Shared/Projects", "Shared/Projects/2026", "Shared/Projects/a/b"}) {
        std::string why;
        std::optional<RelayTarget> t = dref::relayTargetFor(*f.session, name, &why);
        ASSERT_TRUE(t.has_value()) << name << ": " << why;
        EXPECT_EQ(t->entryVname, "Shared/Projects");
        EXPECT_EQ(t->prefix, "Shared/Projects/");
        EXPECT_EQ(t->remoteName, "Shared/Projects");  // no mailbox in the URL: the directory name
        EXPECT_EQ(t->host, "home2.test");
        EXPECT_EQ(t->port, 10143);
        EXPECT_EQ(t->user, "alice");  // no user in the URL: the session's (D-18)
    }
}

TEST(MailboxRelayTest, OwnersNameAndUserComeFromTheUrl_D18_D19) {
    Fixture f;
    f.start();
    std::string why;
    std::optional<RelayTarget> t = dref::relayTargetFor(*f.session, "Archive/2019/Q1", &why);
    ASSERT_TRUE(t.has_value()) << why;
    EXPECT_EQ(t->prefix, "Archive/2019/");
    EXPECT_EQ(t->remoteName, "Old/2019");
    EXPECT_EQ(t->user, "carol.old");
    EXPECT_EQ(t->host, "home1.test");
}

// imapc sends its list prefix unchanged and compares the owner's answers
// with it: the owner's name goes to Dovecot in modified UTF-7.
TEST(MailboxRelayTest, OwnersWireNameIsModifiedUtf7) {
    Fixture f;
    f.start({remote("Shared/B\xC3\xBCro", "home2.test")});
    std::string why;
    std::optional<RelayTarget> t = dref::relayTargetFor(*f.session, "Shared/B\xC3\xBCro/x", &why);
    ASSERT_TRUE(t.has_value()) << why;
    EXPECT_EQ(t->remoteName, "Shared/B\xC3\xBCro");
    EXPECT_EQ(t->remoteWireName, "Shared/B&APw-ro");
    std::optional<RelayTarget> ascii = dref::relayTargetFor(*f.session, "Shared/B\xC3\xBCro", &why);
    ASSERT_TRUE(ascii.has_value());
    EXPECT_EQ(ascii->prefix, "Shared/B\xC3\xBCro/");
}

TEST(MailboxRelayTest, LocalNamesAreNotRelayed) {
    Fixture f;
    f.start();
    std::string why;
    for (const char* name : {"INBOX", "Shared", "Shared/ProjectsX", "Archive"}) {
        EXPECT_FALSE(dref::relayTargetFor(*f.session, name, &why).has_value()) << name;
        EXPECT_TRUE(why.empty()) << name;
    }
}

TEST(MailboxRelayTest, OwnersNameWithEdgeSeparatorIsRefused) {
    Fixture f;
    f.start({remote("Shared/Odd", "home2.test", "", std::string("Odd/"))});
    std::string why;
    EXPECT_FALSE(dref::relayTargetFor(*f.session, "Shared/Odd", &why).has_value());
    EXPECT_NE(why.find("ends with '/'"), std::string::npos) << why;
}

// imapc escapes the owner's names before it strips its list prefix from
// them; a prefix the escaping changes made the imap process panic
// (imapc_list_get_vname(), Dovecot 2.3.19.1 and 2.4.1): refused, with why.
TEST(MailboxRelayTest, OwnersNameImapcWouldEscapeIsRefused) {
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"Team%Ops", "'%'"},      {"Team/50%", "'%'"},  {"~Team", "starts with '~'"},
        {"Team/./x", "'..' hierarchy level"},           {"Team/..", "'..' hierarchy level"},
        {".", "'..' hierarchy level"},                   {"../Team", "'..' hierarchy level"}};
    for (const auto& [name, reason] : bad) {
        Fixture f;
        f.start({remote("Shared/Odd", "home2.test", "", name)});
        std::string why;
        EXPECT_FALSE(dref::relayTargetFor(*f.session, "Shared/Odd/x", &why).has_value()) << name;
        EXPECT_NE(why.find(reason), std::string::npos) << name << ": " << why;
    }
    // Only those: a '~' or '.' elsewhere is left as it is by imapc.
    for (const char* name : {"Team/~x", "Te~am", ".Team", "Team/.hidden", "Team/...", "a.b/c..d"}) {
        Fixture f;
        f.start({remote("Shared/Odd", "home2.test", "", std::string(name))});
        std::string why;
        std::optional<RelayTarget> t = dref::relayTargetFor(*f.session, "Shared/Odd", &why);
        ASSERT_TRUE(t.has_value()) << name << ": " << why;
        EXPECT_EQ(t->remoteWireName, name);
    }
}

// The owner's separator is known once imapc is connected (the relay's reply
// filter asks again with it): with another separator than '/', imapc also
// escapes a '/' of the name, and an edge separator makes another level.
TEST(MailboxRelayTest, OwnersNameIsCheckedWithTheOwnersSeparator) {
    EXPECT_EQ(dref::unmappableOwnerPrefix("Team/Ops", '/'), nullptr);
    EXPECT_EQ(dref::unmappableOwnerPrefix("Team.Ops", '.'), nullptr);
    EXPECT_EQ(dref::unmappableOwnerPrefix("a..b", '.'), nullptr);  // an empty level: imapc escapes nothing
    const char* why = dref::unmappableOwnerPrefix("Team/Ops", '.');
    ASSERT_NE(why, nullptr);
    EXPECT_NE(std::string(why).find("contains '/'"), std::string::npos) << why;
    for (const char* name : {"Team.", ".Team", ""}) {
        why = dref::unmappableOwnerPrefix(name, '.');
        ASSERT_NE(why, nullptr) << name;
        EXPECT_NE(std::string(why).find("hierarchy separator"), std::string::npos) << why;
    }
    // What '/' refuses is refused with any separator (relayTargetFor() asks
    // with '/' before the owner is known, so it loses no entry).
    for (const char* name : {"Team%Ops", "~Team", ".", "..", "Team/./x", "/Team", "Team/"})
        for (char sep : {'/', '.', '\\', ':'})
            EXPECT_NE(dref::unmappableOwnerPrefix(name, sep), nullptr) << name << " " << sep;
}

// "." and ".." levels below an entry ("x/.." is the entry itself for an
// owner that resolves it): every command refused, the session goes on.
TEST(MailboxRelayTest, DotLevelsBelowAnEntryAreNotRelayed) {
    Fixture f;
    f.start();
    for (const char* name : {"Shared/Projects/.", "Shared/Projects/..", "Shared/Projects/x/..",
                             "Shared/Projects/./y", "Shared/Projects/a/./b"}) {
        for (MailboxCommand c : {MailboxCommand::Select, MailboxCommand::Delete,
                                 MailboxCommand::Create, MailboxCommand::Status,
                                 MailboxCommand::Append}) {
            MailboxVerdict v = dref::decideInRelayNamespace(*f.session, name, c);
            EXPECT_EQ(v.kind, MailboxVerdict::Kind::Refuse) << name;
            EXPECT_NE(v.error.find("'.' or '..' level"), std::string::npos) << v.error;
            EXPECT_NE(v.error.front(), '[') << v.error;
        }
        EXPECT_EQ(dref::decideRelayRename(*f.session, name, "Shared/Projects/b").kind,
                  MailboxVerdict::Kind::Refuse) << name;
        EXPECT_EQ(dref::decideRelayRename(*f.session, "Shared/Projects/b", name).kind,
                  MailboxVerdict::Kind::Refuse) << name;
    }
    for (const char* name : {"Shared/Projects/.hidden", "Shared/Projects/a..b", "Shared/Projects/..."})
        EXPECT_EQ(dref::decideInRelayNamespace(*f.session, name, MailboxCommand::Delete).kind,
                  MailboxVerdict::Kind::Local) << name;
}

TEST(MailboxRelayTest, RelayNamespaceServesUntilTheClientOptsIn) {
    Fixture f;
    f.start();
    MailboxVerdict v = dref::decideInRelayNamespace(*f.session, "Shared/Projects",
                                                    MailboxCommand::Select);
    EXPECT_EQ(v.kind, MailboxVerdict::Kind::Local);
    f.session->optIn();
    v = dref::decideInRelayNamespace(*f.session, "Shared/Projects", MailboxCommand::Select);
    EXPECT_EQ(v.kind, MailboxVerdict::Kind::Refer);
    EXPECT_EQ(v.target, "imap://alice;AUTH=*@home2.test:10143/Shared/Projects");
}

TEST(MailboxRelayTest, DeleteOfTheEntryItselfIsRefusedItsInferiorsAreRelayed) {
    Fixture f;
    f.start();
    MailboxVerdict v = dref::decideInRelayNamespace(*f.session, "Shared/Projects",
                                                    MailboxCommand::Delete);
    EXPECT_EQ(v.kind, MailboxVerdict::Kind::Refuse);
    EXPECT_NE(v.error.find("directory names"), std::string::npos) << v.error;
    EXPECT_NE(v.error.front(), '[') << v.error;  // sent as NO [CANNOT] <text>
    EXPECT_EQ(dref::decideInRelayNamespace(*f.session, "Shared/Projects/a", MailboxCommand::Delete).kind,
              MailboxVerdict::Kind::Local);
    EXPECT_EQ(dref::decideInRelayNamespace(*f.session, "Shared/Projects", MailboxCommand::Select).kind,
              MailboxVerdict::Kind::Local);
    // Once the client opted in, DELETE of the entry is referred like any command.
    f.session->optIn();
    EXPECT_EQ(dref::decideInRelayNamespace(*f.session, "Shared/Projects", MailboxCommand::Delete).kind,
              MailboxVerdict::Kind::Refer);
}

TEST(MailboxRelayTest, SettingsNeedMasterUserPasswordAndOptIn) {
    std::string error;
    const std::string relay = std::string(kBase) + "mailbox_referral_mode = opt-in\nmailbox_relay = yes\n";
    EXPECT_FALSE(loads(relay + "mailbox_relay_master_password = pw\n", &error));
    EXPECT_NE(error.find("mailbox_relay_master_user: required"), std::string::npos) << error;
    EXPECT_FALSE(loads(relay + "mailbox_relay_master_user = relay\n", &error));
    EXPECT_NE(error.find("mailbox_relay_master_password: required"), std::string::npos) << error;
    EXPECT_FALSE(loads(std::string(kBase) +
                           "mailbox_relay = yes\nmailbox_relay_master_user = relay\n"
                           "mailbox_relay_master_password = pw\n",
                       &error));
    EXPECT_NE(error.find("needs mailbox_referral_mode = opt-in"), std::string::npos) << error;
    EXPECT_FALSE(loads(relay + "mailbox_relay_master_user = re\x01lay\nmailbox_relay_master_password = pw\n",
                       &error));
    EXPECT_NE(error.find("control character"), std::string::npos) << error;
    EXPECT_TRUE(loads(relay + "mailbox_relay_master_user = relay\nmailbox_relay_master_password = pw\n",
                      &error))
        << error;
    EXPECT_TRUE(loads(std::string(kBase) + "mailbox_relay = no\n", &error)) << error;
}

TEST(MailboxRelayTest, RenameIsRelayedOnlyWithinOneEntryBelowIt) {
    Fixture f;
    f.start();
    // Both names below Shared/Projects: one relay namespace, the owner renames.
    EXPECT_EQ(dref::decideRelayRename(*f.session, "Shared/Projects/a", "Shared/Projects/b/c").kind,
              MailboxVerdict::Kind::Local);
    // Neither remote: Dovecot's own RENAME.
    EXPECT_EQ(dref::decideRelayRename(*f.session, "Work", "Shared/ProjectsX").kind,
              MailboxVerdict::Kind::Local);
    struct Case {
        const char* from;
        const char* to;
        const char* why;  // part of the NO [CANNOT] text
    };
    for (const Case& c : {Case{"Work", "Shared/Projects/Work", "between this server and"},
                          Case{"Shared/Projects/a", "Work", "between this server and"},
                          Case{"Shared/Projects/a", "Archive/2019/a", "between two remote"},
                          Case{"Shared/Projects", "Shared/Projects2", "directory names"},
                          Case{"Shared/Projects/a", "Shared/Projects", "directory names"},
                          Case{"Work", "Shared/Projects", "directory names"}}) {
        MailboxVerdict v = dref::decideRelayRename(*f.session, c.from, c.to);
        EXPECT_EQ(v.kind, MailboxVerdict::Kind::Refuse) << c.from << " -> " << c.to;
        EXPECT_NE(v.error.find(c.why), std::string::npos) << c.from << " -> " << c.to << ": " << v.error;
        // Sent after NO as [CANNOT] <text>: the text must not start a response code itself.
        EXPECT_NE(v.error.front(), '[') << v.error;
    }
}

TEST(MailboxRelayTest, SubscriptionsOfRelayedNamesStayAtHome) {
    Fixture f;
    f.start();
    EXPECT_TRUE(dref::relaySubscribesAtHome(*f.session, "Shared/Projects"));
    EXPECT_TRUE(dref::relaySubscribesAtHome(*f.session, "Archive/2019/Q1"));
    EXPECT_FALSE(dref::relaySubscribesAtHome(*f.session, "INBOX"));     // Dovecot's own
    EXPECT_FALSE(dref::relaySubscribesAtHome(*f.session, "Shared"));    // a local level
    f.session->optIn();  // from now on referred (R2193-19), not relayed
    EXPECT_FALSE(dref::relaySubscribesAtHome(*f.session, "Shared/Projects"));
}
