// The remote part of a listing (issue 12 item 4, plugin/core/mailbox_listing/remote_listing):
// directory entries, the inferiors their owners list, the levels leading
// to them and their attributes, for RLIST/RLSUB/LIST (REMOTE) (R2193-14,
// R2193-27, R2193-28, RFC 5258) and for LIST/LSUB in a relaying session.
#include "remote_listing.h"

#include <gtest/gtest.h>

#include "../mailbox_session/mailbox_session_test_util.h"

using dref::ListFlavour;
using dref::ListOptions;
using dref::ListPattern;
using dref::OwnerMailbox;
using dref::RemoteListInput;
using dref::RemoteListLine;
using dref::RemoteListRequest;
using dref::RemoteMailboxTable;

namespace {

struct Fixture {
    RemoteMailboxTable table;
    std::vector<OwnerMailbox> projects;  // what home2 lists below Shared/Projects
    std::set<std::string> local;         // local mailboxes
    RemoteListInput input;

    Fixture() {
        std::vector<std::string> warnings;
        table = RemoteMailboxTable::build(
            {dref::testing_session::remoteMailbox("Shared/Projects", "home2.test"),
             dref::testing_session::remoteMailbox("Shared/B\xC3\xBCro", "home2.test"),
             dref::testing_session::remoteMailbox("Archive/2019", "home1.test")},
            '/', {}, {}, &warnings);
        projects = {{"Shared/Projects/2026", false},
                    {"Shared/Projects/2026/Q1", false},
                    {"Shared/Projects/Team", true}};
        input.table = &table;
        input.existsLocally = [this](const std::string& n) { return local.count(n) != 0; };
    }
    void ownerAnswered() { input.owners["Shared/Projects"] = &projects; }

    std::vector<std::pair<std::string, std::string>> list(ListFlavour flavour, const char* pattern,
                                                          ListOptions options = ListOptions()) {
        RemoteListRequest r = dref::makeListRequest(flavour, options, true);
        r.patterns.emplace_back("", pattern, '/');
        std::vector<std::pair<std::string, std::string>> out;
        for (const RemoteListLine& l : dref::buildRemoteListing(r, input))
            out.emplace_back(l.vname, l.attributes + (l.childSubscribed ? " +CHILDINFO" : ""));
        return out;
    }
};

using Lines = std::vector<std::pair<std::string, std::string>>;

ListOptions options(std::vector<std::string> selection, std::vector<std::string> returns = {}) {
    ListOptions o;
    o.extended = true;
    EXPECT_TRUE(dref::parseListOptions(selection, returns, &o));
    return o;
}

}  // namespace

// RFC 2193 §4 / R2193-14: the owner's inferiors appear in RLIST with the
// entry; \HasChildren from the owner's answer.
TEST(RemoteListingTest, RlistShowsTheOwnersInferiors_R2193_14) {
    Fixture f;
    f.ownerAnswered();
    EXPECT_EQ(f.list(ListFlavour::Rlist, "Shared/*"),
              (Lines{{"Shared/B\xC3\xBCro", ""},
                     {"Shared/Projects", "\\HasChildren"},
                     {"Shared/Projects/2026", "\\HasChildren"},
                     {"Shared/Projects/2026/Q1", "\\HasNoChildren"},
                     {"Shared/Projects/Team", "\\Noselect \\HasNoChildren"}}));
}

// Without an answer (no credentials, owner down) the directory's entries
// only, with no children attribute: nothing is claimed that is not known.
TEST(RemoteListingTest, WithoutOwnerAnswerListsTheDirectory) {
    Fixture f;
    EXPECT_EQ(f.list(ListFlavour::Rlist, "Shared/*"),
              (Lines{{"Shared/B\xC3\xBCro", ""}, {"Shared/Projects", ""}}));
    std::vector<OwnerMailbox> none;
    f.input.owners["Shared/Projects"] = &none;  // answered: nothing below
    EXPECT_EQ(f.list(ListFlavour::Rlist, "Shared/P*"), (Lines{{"Shared/Projects", "\\HasNoChildren"}}));
}

// "%" lists one level, and the levels leading to deeper names (RFC 3501
// §6.3.8) as \Noselect with children; a local level is Dovecot's line.
TEST(RemoteListingTest, PercentListsLevels_R2193_27) {
    Fixture f;
    f.ownerAnswered();
    EXPECT_EQ(f.list(ListFlavour::Rlist, "%"),
              (Lines{{"Archive", "\\Noselect \\HasChildren"}, {"Shared", "\\Noselect \\HasChildren"}}));
    f.local.insert("Archive");
    EXPECT_EQ(f.list(ListFlavour::Rlist, "%"), (Lines{{"Shared", "\\Noselect \\HasChildren"}}));
    EXPECT_EQ(f.list(ListFlavour::Rlist, "Shared/Projects/%"),
              (Lines{{"Shared/Projects/2026", "\\HasChildren"},
                     {"Shared/Projects/Team", "\\Noselect \\HasNoChildren"}}));
    // A level inside the subtree that the owner did not list itself.
    std::vector<OwnerMailbox> deep = {{"Shared/Projects/x/y", false}};
    f.input.owners["Shared/Projects"] = &deep;
    EXPECT_EQ(f.list(ListFlavour::Rlist, "Shared/Projects/%"),
              (Lines{{"Shared/Projects/x", "\\Noselect \\HasChildren"}}));
}

// RFC 5258 §3: LIST (REMOTE) marks every remote line \Remote; children only
// with RETURN (CHILDREN).
TEST(RemoteListingTest, ListRemoteMarksRemote_RFC5258) {
    Fixture f;
    f.ownerAnswered();
    EXPECT_EQ(f.list(ListFlavour::ListRemote, "Shared/Projects*", options({"REMOTE"})),
              (Lines{{"Shared/Projects", "\\Remote"},
                     {"Shared/Projects/2026", "\\Remote"},
                     {"Shared/Projects/2026/Q1", "\\Remote"},
                     {"Shared/Projects/Team", "\\Noselect \\Remote"}}));
    EXPECT_EQ(f.list(ListFlavour::ListRemote, "Shared/P%", options({"REMOTE"}, {"CHILDREN"})),
              (Lines{{"Shared/Projects", "\\HasChildren \\Remote"}}));
}

// In a relaying session remote names are listed like local ones: no
// \Remote; plain LIST carries children attributes as Dovecot's does.
TEST(RemoteListingTest, RelayedListLooksLocal) {
    Fixture f;
    f.ownerAnswered();
    EXPECT_EQ(f.list(ListFlavour::Relayed, "Shared/Projects/*"),
              (Lines{{"Shared/Projects/2026", "\\HasChildren"},
                     {"Shared/Projects/2026/Q1", "\\HasNoChildren"},
                     {"Shared/Projects/Team", "\\Noselect \\HasNoChildren"}}));
    EXPECT_EQ(f.list(ListFlavour::Relayed, "Shared/Projects/*", options({}, {"SUBSCRIBED"})),
              (Lines{{"Shared/Projects/2026", ""},
                     {"Shared/Projects/2026/Q1", ""},
                     {"Shared/Projects/Team", "\\Noselect"}}));
    f.input.subscribed = {"Shared/Projects/2026/Q1"};
    EXPECT_EQ(f.list(ListFlavour::Relayed, "Shared/Projects/2026*", options({}, {"SUBSCRIBED", "CHILDREN"})),
              (Lines{{"Shared/Projects/2026", "\\HasChildren"},
                     {"Shared/Projects/2026/Q1", "\\HasNoChildren \\Subscribed"}}));
    // (SPECIAL-USE): no remote mailbox has a special use.
    EXPECT_TRUE(f.list(ListFlavour::Relayed, "*", options({"SPECIAL-USE"})).empty());
}

// LSUB / RLSUB / LIST (SUBSCRIBED): this server's subscriptions of remote
// names (R2193-28), inferiors included; RECURSIVEMATCH adds remote parents
// with CHILDINFO (RFC 5258 §3.5), LSUB "%" with \Noselect (RFC 3501).
TEST(RemoteListingTest, SubscribedListings_R2193_28) {
    Fixture f;
    f.ownerAnswered();
    f.input.subscribed = {"Shared/Projects", "Shared/Projects/2026/Q1", "Shared/Projects/Gone"};
    EXPECT_EQ(f.list(ListFlavour::Rlsub, "*"),
              (Lines{{"Shared/Projects", ""}, {"Shared/Projects/2026/Q1", ""}, {"Shared/Projects/Gone", ""}}));
    EXPECT_EQ(f.list(ListFlavour::RelayedLsub, "Shared/Projects/%"),
              (Lines{{"Shared/Projects/2026", "\\Noselect"}, {"Shared/Projects/Gone", ""}}));
    EXPECT_EQ(f.list(ListFlavour::RelayedLsub, "Shared/Projects/*"),
              (Lines{{"Shared/Projects/2026/Q1", ""}, {"Shared/Projects/Gone", ""}}));
    EXPECT_EQ(f.list(ListFlavour::Relayed, "Shared/Projects/*", options({"SUBSCRIBED"})),
              (Lines{{"Shared/Projects/2026/Q1", "\\Subscribed"},
                     {"Shared/Projects/Gone", "\\NonExistent \\Subscribed"}}));
    EXPECT_EQ(f.list(ListFlavour::Relayed, "Shared/Projects/%", options({"SUBSCRIBED", "RECURSIVEMATCH"})),
              (Lines{{"Shared/Projects/2026", " +CHILDINFO"},
                     {"Shared/Projects/Gone", "\\NonExistent \\Subscribed"}}));
    EXPECT_EQ(f.list(ListFlavour::ListRemote, "Shared/%", options({"REMOTE", "SUBSCRIBED"})),
              (Lines{{"Shared/Projects", "\\Remote \\Subscribed"}}));
}

// Owners are asked only where a pattern can list something of theirs.
TEST(RemoteListingTest, EntriesToAsk) {
    Fixture f;
    auto ask = [&](ListFlavour flavour, const char* pattern, ListOptions o = ListOptions()) {
        RemoteListRequest r = dref::makeListRequest(flavour, o, true);
        r.patterns.emplace_back("", pattern, '/');
        std::vector<std::string> out;
        for (const auto& e : dref::entriesToAsk(r, f.table)) out.emplace_back(e.vname());
        return out;
    };
    EXPECT_EQ(ask(ListFlavour::Rlist, "%"), std::vector<std::string>());
    EXPECT_EQ(ask(ListFlavour::Rlist, "Shared/%"),
              (std::vector<std::string>{"Shared/B\xC3\xBCro", "Shared/Projects"}));
    EXPECT_EQ(ask(ListFlavour::Relayed, "Shared/%", options({})), std::vector<std::string>());
    EXPECT_EQ(ask(ListFlavour::Relayed, "Shared/Projects/*", options({})),
              (std::vector<std::string>{"Shared/Projects"}));
    EXPECT_EQ(ask(ListFlavour::Rlsub, "*"), std::vector<std::string>());
    EXPECT_EQ(ask(ListFlavour::Rlist, "*").size(), 3u);
    RemoteListRequest noCredentials = dref::makeListRequest(ListFlavour::Rlist, ListOptions(), false);
    noCredentials.patterns.emplace_back("", "*", '/');
    EXPECT_TRUE(dref::entriesToAsk(noCredentials, f.table).empty());
}

// Options as Dovecot's LIST takes them: where it answers BAD nothing remote
// is printed first.
TEST(RemoteListingTest, ParseListOptions_RFC5258) {
    ListOptions o;
    EXPECT_TRUE(dref::parseListOptions({"subscribed", "Remote", "RECURSIVEMATCH"}, {"children"}, &o));
    EXPECT_TRUE(o.selectSubscribed && o.selectRemote && o.recursiveMatch && o.returnChildren);
    ListOptions bad;
    EXPECT_FALSE(dref::parseListOptions({"REMOTE", "RECURSIVEMATCH"}, {}, &bad));
    EXPECT_FALSE(dref::parseListOptions({"RECURSIVEMATCH"}, {}, &bad));
    EXPECT_FALSE(dref::parseListOptions({"BOGUS"}, {}, &bad));
    EXPECT_FALSE(dref::parseListOptions({}, {"BOGUS"}, &bad));
    ListOptions status;
    EXPECT_TRUE(dref::parseListOptions({}, {"STATUS", "SPECIAL-USE"}, &status));
}
