// The client over TLS, against a slapd with a throwaway CA (slapd_server.py
// --tls): StartTLS and ldaps://, certificate checking per connection, and
// large or pipelined results, whose last TLS records sit decrypted in
// libldap's buffer where poll() cannot see them (DOVECOT-NOTES §3.2/3.3).
#include <poll.h>

#include "directory_fixture.h"

namespace dref::test {
namespace {

constexpr const char* kTlsAddr = "127.0.0.13";
constexpr int kBulkMailboxes = 300;

class TlsDirectory : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        slapd_ = new SlapdProcess(runDir("tls-slapd"), kTlsAddr);
        std::string error;
        if (!slapd_->start({std::string(DREF_DIRECTORY_TESTDATA) + "/directory.ldif"}, 0, &error,
                           true)) {
            startError_ = error;
            return;
        }
        std::string bulk = "dn: ou=bulk,dc=example,dc=test\nobjectClass: organizationalUnit\nou: bulk\n\n";
        for (int i = 0; i < kBulkMailboxes; ++i) {
            const std::string name = "Bulk/" + std::to_string(i);
            bulk += "dn: imapMailboxName=" + name + ",ou=bulk,dc=example,dc=test\n"
                    "objectClass: imapRemoteMailbox\nimapMailboxName: " + name + "\n"
                    "imapMailboxURL: imap://home2.example.test/" + name + "\n"
                    "description: " + std::string(200, 'p') + "\n\n";
        }
        ProcessResult r = slapd_->ldapTool("ldapadd", bulk);
        if (r.exitCode != 0) startError_ = "bulk ldapadd: " + r.out + r.err;
    }
    static void TearDownTestSuite() {
        delete slapd_;
        slapd_ = nullptr;
    }
    void SetUp() override { ASSERT_TRUE(startError_.empty()) << startError_; }

    static Settings tlsSettings(const std::string& uri, bool startTls, const std::string& caFile) {
        Settings s = testSettings({uri});
        s.directory.startTls = startTls;
        s.directory.tlsCaFile = caFile;
        s.directory.tlsRequireCert = "demand";
        s.directory.cacheTtlMs = 0;
        return s;
    }

    // For the cases that must fail: they fail at the deadline, keep it short.
    static Settings failingTlsSettings(const std::string& uri, bool startTls) {
        Settings s = tlsSettings(uri, startTls, std::string(DREF_DIRECTORY_TESTDATA) + "/unrelated-ca.pem");
        s.directory.timeoutMs = 400;
        return s;
    }

    static SlapdProcess* slapd_;
    static std::string startError_;
};

SlapdProcess* TlsDirectory::slapd_ = nullptr;
std::string TlsDirectory::startError_;

TEST_F(TlsDirectory, StartTlsWithTrustedCa) {
    auto d = makeDirectory(tlsSettings(slapd_->uri(), true, slapd_->caFile()));
    auto r = lookupUser(*d, "alice");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, DirectoryStatus::Found) << r->error;
}

TEST_F(TlsDirectory, LdapsWithTrustedCa) {
    auto d = makeDirectory(tlsSettings(slapd_->ldapsUri(), false, slapd_->caFile()));
    auto r = lookupUser(*d, "carol");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, DirectoryStatus::Found) << r->error;
    ASSERT_TRUE(r->record.home);
    EXPECT_EQ(r->record.home->host, "home2.example.test");
}

// The certificate is checked: a server whose CA is not trusted is
// unavailable, with a reason, and no data is read from it.
TEST_F(TlsDirectory, UntrustedCertificateIsUnavailable) {
    for (bool startTls : {true, false}) {
        SCOPED_TRACE(startTls ? "StartTLS" : "ldaps");
        auto d = makeDirectory(failingTlsSettings(startTls ? slapd_->uri() : slapd_->ldapsUri(), startTls));
        auto r = lookupUser(*d, "alice");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, DirectoryStatus::Unavailable);
        EXPECT_FALSE(r->error.empty());
    }
}

// TLS settings belong to the connection (LDAP_OPT_X_TLS_NEWCTX): a client
// that trusts nothing does not spoil one that trusts the test CA, in either
// order, in one process.
TEST_F(TlsDirectory, TlsSettingsArePerClient) {
    Settings bad = failingTlsSettings(slapd_->ldapsUri(), false);
    auto good = makeDirectory(tlsSettings(slapd_->ldapsUri(), false, slapd_->caFile()));
    auto untrusting = makeDirectory(bad);
    EXPECT_EQ(lookupUser(*untrusting, "alice")->status, DirectoryStatus::Unavailable);
    EXPECT_EQ(lookupUser(*good, "alice")->status, DirectoryStatus::Found);
    auto untrusting2 = makeDirectory(bad);
    EXPECT_EQ(lookupUser(*untrusting2, "alice")->status, DirectoryStatus::Unavailable);
}

// StartTLS required but the server has no TLS: refused, never plaintext.
TEST_F(TlsDirectory, StartTlsRequiredButUnsupportedIsUnavailable) {
    Settings s = tlsSettings(sharedSlapd().uri(), true, slapd_->caFile());
    s.directory.timeoutMs = 400;
    auto d = makeDirectory(s);
    auto r = lookupUser(*d, "alice");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, DirectoryStatus::Unavailable);
    EXPECT_NE(r->error.find("StartTLS"), std::string::npos) << r->error;
}

// 300 entries (~90 KB) in one result over TLS: all arrive well within the
// timeout (nothing stranded in libldap's TLS buffer).
TEST_F(TlsDirectory, LargeResultOverTls) {
    for (bool startTls : {true, false}) {
        SCOPED_TRACE(startTls ? "StartTLS" : "ldaps");
        Settings s = tlsSettings(startTls ? slapd_->uri() : slapd_->ldapsUri(), startTls,
                                 slapd_->caFile());
        s.directory.mailboxSharedBase = "ou=bulk,dc=example,dc=test";
        auto d = makeDirectory(s);
        const auto t0 = std::chrono::steady_clock::now();
        auto r = lookupMailboxes(*d, "carol");
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - t0).count();
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, DirectoryStatus::Found) << r->error;
        EXPECT_EQ(r->mailboxes.size(), static_cast<size_t>(kBulkMailboxes));
        EXPECT_LT(ms, s.directory.timeoutMs / 2);
    }
}

// The same 300 entries (~90 KB, more than the 64 KB read-ahead buffer of a
// plain connection, ldap_connection.cpp) over plain LDAP: messages that
// straddle two buffer fills arrive whole, none is lost or read twice, and
// every value is the one in the directory.
TEST_F(TlsDirectory, LargeResultThroughTheReadAheadBuffer) {
    Settings s = tlsSettings(slapd_->uri(), false, "");
    s.directory.mailboxSharedBase = "ou=bulk,dc=example,dc=test";
    auto d = makeDirectory(s);
    for (int round = 0; round < 2; ++round) {  // the second on the same connection
        auto r = lookupMailboxes(*d, "carol");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, DirectoryStatus::Found) << r->error;
        ASSERT_EQ(r->mailboxes.size(), static_cast<size_t>(kBulkMailboxes));
        std::vector<bool> seen(kBulkMailboxes, false);
        for (const auto& m : r->mailboxes) {
            ASSERT_EQ(m.name.compare(0, 5, "Bulk/"), 0) << m.name;
            const int i = std::stoi(m.name.substr(5));
            ASSERT_TRUE(i >= 0 && i < kBulkMailboxes && !seen[static_cast<size_t>(i)]) << m.name;
            seen[static_cast<size_t>(i)] = true;
            EXPECT_EQ(m.dn, "imapMailboxName=" + m.name + ",ou=bulk,dc=example,dc=test");
            ASSERT_EQ(m.locations.size(), 1u);
            EXPECT_EQ(m.locations[0].host, "home2.example.test");
            EXPECT_EQ(m.locations[0].mailbox.value_or(""), m.name);
        }
    }
    EXPECT_EQ(d->ldapStats().connects, 1u);
}

// Many small pipelined searches on one TLS connection.
TEST_F(TlsDirectory, PipelinedLookupsOverTls) {
    auto d = makeDirectory(tlsSettings(slapd_->ldapsUri(), false, slapd_->caFile()));
    int found = 0;
    const int n = 300;
    for (int i = 0; i < n; ++i) {
        d->lookupUser(i % 3 ? "alice" : "dave", [&](UserLookupResult&& r) {
            if (r.status == DirectoryStatus::Found) ++found;
        });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (found < n && std::chrono::steady_clock::now() < deadline) {
        pollfd p{d->eventFd(), POLLIN, 0};
        poll(&p, 1, 50);
        d->process();
    }
    EXPECT_EQ(found, n);
    EXPECT_EQ(d->ldapStats().connects, 1u);
    EXPECT_EQ(d->ldapStats().timeouts, 0u);
}

}  // namespace
}  // namespace dref::test
