// dovecot-referral-lookup run as a program against the shared slapd: its
// report, its exit status and its one-line errors.
#include <fstream>

#include "dref_version.h"

#include "directory_fixture.h"

#ifndef DREF_LOOKUP_BINARY
#error "DREF_LOOKUP_BINARY must name the built dovecot-referral-lookup"
#endif

namespace dref::test {
namespace {

std::string writeSettings(const std::string& name, const std::string& text) {
    const std::string path = runDir(name);
    std::ofstream(path) << text;
    return path;
}

std::string settingsText(const std::string& uri) {
    return "ldap_uris = " + uri + "\n"
           "ldap_bind_dn = " + std::string(SlapdProcess::kRootDn) + "\n"
           "ldap_bind_password = " + std::string(SlapdProcess::kRootPassword) + "\n"
           "ldap_connect_timeout = 500ms\nldap_timeout = 1s\n"
           "user_base = ou=people,dc=example,dc=test\n"
           "mailbox_shared_base = ou=mailboxes,dc=example,dc=test\n"
           "local_names = front.example.test\n";
}

ProcessResult lookup(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {DREF_LOOKUP_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProcess(argv, 20000);
}

int lineCount(const std::string& s) {
    int n = 0;
    for (char c : s) n += (c == '\n');
    return n;
}

// R2221-*: the report shows the home server and the RFC 5092 referral URL.
TEST(LookupCommand, FoundUserReport) {
    const auto conf = writeSettings("lookup-ok.conf", settingsText(sharedSlapd().uri()));
    auto r = lookup({"-c", conf, "alice"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("home server: home1.example.test:143\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("policy: refer\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("dn: uid=alice,ou=people,dc=example,dc=test\n"), std::string::npos);
    EXPECT_NE(r.out.find("decision: refer\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("referral url: imap://alice;AUTH=*@home1.example.test/\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("remote mailboxes: 3\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("description=shared-crlf"), std::string::npos) << "hostile entry not reported";
    EXPECT_EQ(r.out.find('\r'), std::string::npos);
}

// Password mode: the report says whether the entry has a usable stored
// password, never the value (carol gets one for this test).
TEST(LookupCommand, PasswordModeShowsOnlyThatAPasswordIsSet) {
    const std::string dn = "dn: uid=carol,ou=people,dc=example,dc=test\nchangetype: modify\n";
    auto m = sharedSlapd().ldapTool("ldapmodify", dn + "add: userPassword\nuserPassword: {PLAIN}carol-Secret-42\n");
    ASSERT_EQ(m.exitCode, 0) << m.err;
    const auto conf = writeSettings("lookup-pw.conf", settingsText(sharedSlapd().uri()) +
                                                          "password_attribute = userPassword\n");
    auto r = lookup({"-c", conf, "carol"});
    auto a = lookup({"-c", conf, "alice"});
    auto plain = lookup({"-c", writeSettings("lookup-nopw.conf", settingsText(sharedSlapd().uri())), "carol"});
    sharedSlapd().ldapTool("ldapmodify", dn + "delete: userPassword\n");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("password: (set)\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("carol-Secret-42"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("carol-Secret-42"), std::string::npos) << r.err;
    EXPECT_NE(a.out.find("password: (none)\n"), std::string::npos) << a.out;
    EXPECT_EQ(plain.out.find("password:"), std::string::npos) << plain.out;  // chain mode: no line
}

TEST(LookupCommand, MailboxArgumentShowsTheCoveringEntry) {
    const auto conf = writeSettings("lookup-ok.conf", settingsText(sharedSlapd().uri()));
    auto r = lookup({"-c", conf, "alice", "Shared/Projects/2026"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("mailbox referral url: imap://alice@home2.example.test/Shared/Projects/2026\n"),
              std::string::npos)
        << r.out;
    r = lookup({"-c", conf, "alice", "INBOX"});
    EXPECT_NE(r.out.find("mailbox placement: local"), std::string::npos) << r.out;
}

// R2221-3 / D-11: a home server that is this server means local service.
TEST(LookupCommand, HomeIsThisServerMeansLocal) {
    const auto conf = writeSettings("lookup-ok.conf", settingsText(sharedSlapd().uri()));
    auto r = lookup({"-c", conf, "local-user"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("decision: local\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("referral url:"), std::string::npos) << r.out;
}

// The client facts given on the command line reach decide(): a client-ID
// rule applies to a user without a policy of their own.
TEST(LookupCommand, ClientIdRuleChangesTheDecision) {
    const auto conf = writeSettings("lookup-rules.conf",
                                    settingsText(sharedSlapd().uri()) +
                                        "default_policy = refer\nclient_id_rule = proxy Outlook*\n");
    auto plain = lookup({"-c", conf, "--secured", "multi"});
    EXPECT_EQ(plain.exitCode, 0) << plain.err;
    EXPECT_NE(plain.out.find("decision: refer\n"), std::string::npos) << plain.out;
    EXPECT_NE(plain.out.find("decision source: default\n"), std::string::npos) << plain.out;
    auto outlook = lookup({"-c", conf, "--secured", "--client-id", "Outlook 16", "--local",
                           "127.0.0.1:143", "multi"});
    EXPECT_EQ(outlook.exitCode, 0) << outlook.err;
    EXPECT_NE(outlook.out.find("decision: proxy\n"), std::string::npos) << outlook.out;
    EXPECT_NE(outlook.out.find("decision source: client-id\n"), std::string::npos) << outlook.out;
    EXPECT_NE(outlook.out.find("target: home1.example.test:143\n"), std::string::npos) << outlook.out;
    EXPECT_EQ(outlook.out.find("referral url:"), std::string::npos) << outlook.out;
}

TEST(LookupCommand, NotFoundExitsOneWithOneLine) {
    const auto conf = writeSettings("lookup-ok.conf", settingsText(sharedSlapd().uri()));
    auto r = lookup({"-c", conf, "nobody"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(lineCount(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("dovecot-referral-lookup: ", 0), 0u) << r.err;
    EXPECT_NE(r.out.find("directory: not found"), std::string::npos) << r.out;
}

TEST(LookupCommand, UnavailableDirectoryExitsOne) {
    const int port = unusedPort(kDisruptAddr);
    const auto conf = writeSettings(
        "lookup-down.conf",
        settingsText("ldap://" + std::string(kDisruptAddr) + ":" + std::to_string(port) + "/"));
    auto r = lookup({"-c", conf, "alice"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(lineCount(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("dovecot-referral-lookup: directory unavailable"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(LookupCommand, BadSettingsFileNamesFileLineAndKey) {
    const auto conf = writeSettings("lookup-bad.conf",
                                    settingsText(sharedSlapd().uri()) + "ldap_timeout_typo = 3s\n");
    auto r = lookup({"-c", conf, "alice"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_EQ(lineCount(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("dovecot-referral-lookup: " + conf + ":9: ldap_timeout_typo"), std::string::npos)
        << r.err;
    auto missing = lookup({"-c", runDir("no-such.conf"), "alice"});
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_EQ(lineCount(missing.err), 1) << missing.err;
}

TEST(LookupCommand, UsageVersionAndHelp) {
    auto none = lookup({});
    EXPECT_EQ(none.exitCode, 2);
    EXPECT_EQ(lineCount(none.err), 1) << none.err;
    auto bad = lookup({"--frobnicate", "alice"});
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_EQ(lineCount(bad.err), 1);
    auto version = lookup({"--version"});
    EXPECT_EQ(version.exitCode, 0);
    EXPECT_EQ(version.out, "dovecot-referral-lookup " DREF_VERSION "\n");
    auto help = lookup({"--help"});
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_NE(help.out.find("USER [MAILBOX]"), std::string::npos);
}

}  // namespace
}  // namespace dref::test
