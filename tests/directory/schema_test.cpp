// ldap/schema/imapreferral.ldif as loaded into the test slapd: good entries
// are accepted, and the constraints the schema can express are enforced by
// the server (CONVENTIONS.md §2, "Negative checks").
#include "directory_fixture.h"

namespace dref::test {
namespace {

constexpr int kConstraintViolation = 19;
constexpr int kInvalidSyntax = 21;
constexpr int kObjectClassViolation = 65;

ProcessResult add(const std::string& ldif) { return sharedSlapd().ldapTool("ldapadd", ldif); }

TEST(Schema, GoodUserAndMailboxEntriesAreAccepted) {
    auto r = add("dn: uid=schema-good,ou=people,dc=example,dc=test\n"
                 "objectClass: inetOrgPerson\nobjectClass: inetLocalMailRecipient\n"
                 "objectClass: imapReferralAccount\n"
                 "uid: schema-good\ncn: Good\nsn: Example\nmailHost: home1.example.test\n"
                 "imapHomeServerURL: imap://home1.example.test:1143/\nimapReferralPolicy: suggest\n\n"
                 "dn: imapMailboxName=Projekte/Q1,uid=schema-good,ou=people,dc=example,dc=test\n"
                 "objectClass: imapRemoteMailbox\nimapMailboxName: Projekte/Q1\n"
                 "imapMailboxURL: imap://home2.example.test/Projekte/Q1\n"
                 "description: moved in 2026\nowner: uid=schema-good,ou=people,dc=example,dc=test\n");
    EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
    auto d = makeDirectory(testSettings());
    auto u = lookupUser(*d, "schema-good");
    ASSERT_TRUE(u);
    ASSERT_TRUE(u->record.home);
    EXPECT_EQ(u->record.home->port, 1143);
}

TEST(Schema, SecondPolicyValueIsAConstraintViolation) {
    auto r = sharedSlapd().ldapTool("ldapmodify",
                                    "dn: uid=alice,ou=people,dc=example,dc=test\nchangetype: modify\n"
                                    "add: imapReferralPolicy\nimapReferralPolicy: proxy\n");
    EXPECT_EQ(r.exitCode, kConstraintViolation) << r.out << r.err;
}

TEST(Schema, RemoteMailboxWithoutUrlIsAnObjectClassViolation) {
    auto r = add("dn: imapMailboxName=NoURL,ou=mailboxes,dc=example,dc=test\n"
                 "objectClass: imapRemoteMailbox\nimapMailboxName: NoURL\n");
    EXPECT_EQ(r.exitCode, kObjectClassViolation) << r.out << r.err;
}

TEST(Schema, NonAsciiUrlIsInvalidSyntax) {
    auto r = add("dn: imapMailboxName=Bad,ou=mailboxes,dc=example,dc=test\n"
                 "objectClass: imapRemoteMailbox\nimapMailboxName: Bad\n"
                 "imapMailboxURL: imap://home2.example.test/B\xc3\xbcro\n");
    EXPECT_EQ(r.exitCode, kInvalidSyntax) << r.out << r.err;
}

TEST(Schema, MailboxNameIsMatchedCaseSensitively) {
    auto r = runProcess({"ldapsearch", "-x", "-LLL", "-H", sharedSlapd().uri(), "-b",
                         "ou=mailboxes,dc=example,dc=test", "(imapMailboxName=shared/projects)", "dn"});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out.find("dn:"), std::string::npos) << r.out;
    r = runProcess({"ldapsearch", "-x", "-LLL", "-H", sharedSlapd().uri(), "-b",
                    "ou=mailboxes,dc=example,dc=test", "(imapMailboxName=Shared/*)", "dn"});
    EXPECT_NE(r.out.find("Shared/Projects"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace dref::test
