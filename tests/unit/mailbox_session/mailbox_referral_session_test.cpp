// The imap plugin's per-session decisions (plugin/core/mailbox_session/mailbox_referral_session):
// which command refers, which answers as for a nonexistent mailbox, the
// switches (D-6, D-8, D-9, R2193-21, R2193-26), RENAME pairs (R2193-23) and
// the table life cycle (outage, refresh).
#include "mailbox_referral_session.h"
#include "mailbox_session_test_util.h"

#include <gtest/gtest.h>

#include <memory>

using dref::MailboxCommand;
using dref::MailboxReferralMode;
using dref::MailboxReferralSession;
using dref::MailboxVerdict;
using dref::RemoteMailbox;
using dref::RemoteMailboxTable;
using dref::Settings;
using dref::TableState;
using Kind = MailboxVerdict::Kind;

namespace {

RemoteMailbox remote(const std::string& name, const std::string& host,
                     std::optional<std::string> mailbox = std::nullopt) {
    return dref::testing_session::remoteMailbox(name, host, std::move(mailbox));
}

struct Fixture {
    std::shared_ptr<Settings> settings = std::make_shared<Settings>();
    std::unique_ptr<MailboxReferralSession> session;

    void start(std::vector<RemoteMailbox> mailboxes = {remote("Shared/Projects", "home2.test"),
                                                       remote("Shared/Other", "home3.test")}) {
        session = dref::testing_session::loadedSession(settings, mailboxes);
    }
};

const char kProjects[] = "[REFERRAL imap://alice;AUTH=*@home2.test:10143/Shared/Projects] ";

}  // namespace

// R2193-19, R2193-21: the commands that refer by default.
TEST(MailboxReferralSessionTest, DefaultCommandsRefer_R2193_19) {
    Fixture f;
    f.start();
    for (MailboxCommand c : {MailboxCommand::Select, MailboxCommand::Examine, MailboxCommand::Append,
                             MailboxCommand::Delete, MailboxCommand::Subscribe,
                             MailboxCommand::Unsubscribe, MailboxCommand::Create}) {
        MailboxVerdict v = f.session->decide("Shared/Projects", c);
        EXPECT_EQ(v.kind, Kind::Refer) << dref::mailboxCommandName(c);
        EXPECT_EQ(v.error, std::string(kProjects) + "Remote mailbox.");
        EXPECT_EQ(v.urlCount, 1u);
    }
    EXPECT_EQ(f.session->decide("INBOX", MailboxCommand::Select).kind, Kind::Local);
    EXPECT_EQ(f.session->decide("Shared", MailboxCommand::Select).kind, Kind::Local);
}

// D-6, D-9, R2193-26: off by default, no referral.
TEST(MailboxReferralSessionTest, SwitchedOffCommandsDoNotRefer_D6_D9) {
    Fixture f;
    f.start();
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Status).kind, Kind::Nonexistent);
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Copy).kind, Kind::Refuse);
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Move).kind, Kind::Refuse);
    MailboxVerdict r = f.session->decideRename("Shared/Projects", "Shared/New");
    EXPECT_EQ(r.kind, Kind::Refuse);
    EXPECT_EQ(r.error.find('['), std::string::npos);
    // Other commands that open a mailbox (GETMETADATA ...) never refer.
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Other).kind, Kind::Nonexistent);
    f.settings->mailbox.referCreate = false;
    EXPECT_EQ(f.session->decide("Shared/Projects/x", MailboxCommand::Create).kind, Kind::Refuse);
}

TEST(MailboxReferralSessionTest, SwitchedOnCommandsRefer_R2193_26) {
    Fixture f;
    f.settings->mailbox.referStatus = true;
    f.settings->mailbox.referCopy = true;
    f.start();
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Status).kind, Kind::Refer);
    EXPECT_EQ(f.session->decide("Shared/Projects/a", MailboxCommand::Copy).kind, Kind::Refer);
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Move).kind, Kind::Refer);
}

// R2193-23: pairs (old, new) per location; the new name on the old name's
// server unless the directory places it elsewhere.
TEST(MailboxReferralSessionTest, RenamePairs_R2193_23) {
    Fixture f;
    f.settings->mailbox.referRename = true;
    f.start();
    MailboxVerdict same = f.session->decideRename("Shared/Projects", "Shared/Projects2");
    ASSERT_EQ(same.kind, Kind::Refer);
    EXPECT_EQ(same.urlCount, 2u);
    EXPECT_EQ(same.error,
              "[REFERRAL imap://alice;AUTH=*@home2.test:10143/Shared/Projects "
              "imap://alice;AUTH=*@home2.test:10143/Shared/Projects2] Remote mailbox.");
    MailboxVerdict across = f.session->decideRename("Shared/Projects/a", "Shared/Other/b");
    ASSERT_EQ(across.kind, Kind::Refer);
    EXPECT_EQ(across.error,
              "[REFERRAL imap://alice;AUTH=*@home2.test:10143/Shared/Projects/a "
              "imap://alice;AUTH=*@home3.test:10143/Shared/Other/b] Remote mailbox.");
    EXPECT_EQ(f.session->decideRename("Local", "Shared/Projects/x").kind, Kind::Refuse);
    EXPECT_EQ(f.session->decideRename("Local", "Local2").kind, Kind::Local);
}

// D-8: opt-in mode answers as for a nonexistent mailbox until RLIST/RLSUB.
TEST(MailboxReferralSessionTest, OptInMode_D8) {
    Fixture f;
    f.settings->mailbox.mode = MailboxReferralMode::OptIn;
    f.start();
    EXPECT_FALSE(f.session->referralsAllowed());
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Select).kind, Kind::Nonexistent);
    EXPECT_EQ(f.session->decide("Shared/Projects/x", MailboxCommand::Create).kind, Kind::Refuse);
    EXPECT_TRUE(f.session->isRemote("Shared/Projects"));  // still hidden from LIST
    f.session->optIn();
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Select).kind, Kind::Refer);
}

TEST(MailboxReferralSessionTest, DisabledMeansLocal) {
    Fixture f;
    f.settings->mailbox.enabled = false;
    f.start();
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Select).kind, Kind::Local);
    EXPECT_FALSE(f.session->isRemote("Shared/Projects"));
}

// Several locations: several URLs, preferred first (R2193-8, R2193-9).
TEST(MailboxReferralSessionTest, ReplicasGiveSeveralUrls_R2193_8) {
    Fixture f;
    RemoteMailbox m = remote("Shared/Projects", "home2.test", std::string("Projects"));
    dref::ImapUrlParts second;
    second.host = "home3.test";
    m.locations.push_back(second);
    f.start({m});
    MailboxVerdict v = f.session->decide("Shared/Projects", MailboxCommand::Select);
    EXPECT_EQ(v.error,
              "[REFERRAL imap://alice;AUTH=*@home2.test:10143/Projects "
              "imap://alice;AUTH=*@home3.test/Shared/Projects] Remote mailbox.");
    EXPECT_EQ(v.target, "imap://alice;AUTH=*@home2.test:10143/Projects");
}

// Untrusted text settings never reach the wire unsanitised.
TEST(MailboxReferralSessionTest, ReferralTextIsSanitised) {
    Fixture f;
    f.settings->mailbox.referralText = "Go\r\n* BYE x";
    f.start();
    MailboxVerdict v = f.session->decide("Shared/Projects", MailboxCommand::Select);
    EXPECT_EQ(v.error.find('\r'), std::string::npos);
    EXPECT_EQ(v.error.find('\n'), std::string::npos);
}

// Table life cycle: an outage at start leaves remote names unknown; a failed
// refresh keeps the table; refreshes follow cache_ttl / negative_cache_ttl.
TEST(MailboxReferralSessionTest, TableLifeCycle) {
    Fixture f;
    f.settings->directory.cacheTtlMs = 60000;
    f.settings->directory.negativeCacheTtlMs = 10000;
    f.session = std::make_unique<MailboxReferralSession>(f.settings, "alice");
    f.session->startLoading(0);
    EXPECT_EQ(f.session->state(), TableState::Loading);
    EXPECT_FALSE(f.session->refreshDue(100000));
    f.session->tableUnavailable(1000);
    EXPECT_EQ(f.session->state(), TableState::Unavailable);
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Select).kind, Kind::Local);
    EXPECT_FALSE(f.session->refreshDue(10999));
    EXPECT_TRUE(f.session->refreshDue(11000));
    f.session->startRefresh();
    EXPECT_FALSE(f.session->refreshDue(20000));
    std::vector<std::string> w;
    f.session->tableLoaded(
        RemoteMailboxTable::build({remote("Shared/Projects", "home2.test")}, '/', {}, {}, &w), 20000);
    EXPECT_EQ(f.session->state(), TableState::Ready);
    EXPECT_FALSE(f.session->refreshDue(79999));
    EXPECT_TRUE(f.session->refreshDue(80000));
    f.session->startRefresh();
    f.session->tableUnavailable(80000);  // failed refresh: the table stays
    EXPECT_EQ(f.session->state(), TableState::Ready);
    EXPECT_EQ(f.session->decide("Shared/Projects", MailboxCommand::Select).kind, Kind::Refer);
}

TEST(MailboxReferralSessionTest, ClassifiesImapCommandNames) {
    EXPECT_EQ(dref::classifyCommand("select"), MailboxCommand::Select);
    EXPECT_EQ(dref::classifyCommand("UID MOVE"), MailboxCommand::Move);
    EXPECT_EQ(dref::classifyCommand("uid copy"), MailboxCommand::Copy);
    EXPECT_EQ(dref::classifyCommand("REPLACE"), MailboxCommand::Copy);
    EXPECT_EQ(dref::classifyCommand("UID REPLACE"), MailboxCommand::Copy);
    EXPECT_EQ(dref::classifyCommand("RLSUB"), MailboxCommand::List);
    EXPECT_EQ(dref::classifyCommand("GETMETADATA"), MailboxCommand::Other);
    EXPECT_EQ(dref::classifyCommand(""), MailboxCommand::Other);
}
