#include "directory_fixture.h"

#include <poll.h>

#include <cstdlib>
#include <thread>

#ifndef DREF_DIRECTORY_TESTDATA
#error "DREF_DIRECTORY_TESTDATA must name tests/directory/testdata"
#endif
#ifndef DREF_DIRECTORY_RUNDIR
#error "DREF_DIRECTORY_RUNDIR must name a scratch directory in the build tree"
#endif

namespace dref::test {
namespace {

SlapdProcess* gShared = nullptr;

// 4 KB values cannot sensibly live in the LDIF file.
std::string longValuesLdif() {
    const std::string longHost(4096, 'a');
    const std::string longName = "Shared/" + std::string(4096, 'x');
    return "dn: uid=hostile-long,ou=people,dc=example,dc=test\n"
           "objectClass: inetOrgPerson\nobjectClass: inetLocalMailRecipient\n"
           "uid: hostile-long\ncn: Hostile\nsn: Example\nmailHost: " + longHost + "\n\n"
           "dn: description=shared-long-name,ou=mailboxes,dc=example,dc=test\n"
           "objectClass: imapRemoteMailbox\ndescription: shared-long-name\n"
           "imapMailboxName: " + longName + "\n"
           "imapMailboxURL: imap://home2.example.test/Shared/Long\n";
}

class SharedSlapdEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        gShared = new SlapdProcess(runDir("shared-slapd"), kSharedAddr);
        std::string error;
        if (!gShared->start({std::string(DREF_DIRECTORY_TESTDATA) + "/directory.ldif"}, 0, &error)) {
            FAIL() << error;
        }
        ProcessResult r = gShared->ldapTool("ldapadd", longValuesLdif());
        ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    }
    void TearDown() override {
        delete gShared;  // stops slapd
        gShared = nullptr;
    }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new SharedSlapdEnvironment);

}  // namespace

SlapdProcess& sharedSlapd() { return *gShared; }

std::string runDir(const std::string& name) { return std::string(DREF_DIRECTORY_RUNDIR) + "/" + name; }

Settings testSettings(const std::vector<std::string>& uris) {
    Settings s;
    s.path = "(test)";
    DirectorySettings& d = s.directory;
    d.uris = uris.empty() ? std::vector<std::string>{gShared->uri()} : uris;
    d.bindDn = SlapdProcess::kRootDn;
    d.bindPassword = SlapdProcess::kRootPassword;
    d.connectTimeoutMs = 500;
    d.timeoutMs = 1000;
    d.backoffMaxMs = 200;
    d.userBase = "ou=people,dc=example,dc=test";
    d.mailboxSharedBase = "ou=mailboxes,dc=example,dc=test";
    d.cacheTtlMs = 60000;
    d.negativeCacheTtlMs = 60000;
    s.decision.localNames = {"front.example.test"};
    return s;
}

bool searchOnCallerThread() {
    const char* v = std::getenv("DREF_DIRECTORY_SEARCH_ON_CALLER_THREAD");
    return v != nullptr && std::string(v) == "1";
}

DirectoryOptions testOptions() {
    DirectoryOptions o;
    o.searchOnCallerThread = searchOnCallerThread();
    return o;
}

std::unique_ptr<Directory> makeDirectory(const Settings& s) {
    std::string error;
    auto d = Directory::create(s, &error, testOptions());
    EXPECT_TRUE(d) << error;
    return d;
}

namespace {

template <class Result, class Start>
std::optional<Result> drive(Directory& d, Start start, int maxMs, bool* deliveredInside, Timed* timed) {
    std::optional<Result> result;
    bool inCall = true;
    bool inside = false;
    const auto t0 = std::chrono::steady_clock::now();
    start([&](Result&& r) {
        inside = inCall;
        result = std::move(r);
    });
    inCall = false;
    const auto deadline = t0 + std::chrono::milliseconds(maxMs);
    while (!result && std::chrono::steady_clock::now() < deadline) {
        pollfd p{d.eventFd(), POLLIN, 0};
        poll(&p, 1, 50);
        d.process();
    }
    if (deliveredInside) *deliveredInside = inside;
    if (timed) {
        timed->ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
    }
    return result;
}

}  // namespace

std::optional<UserLookupResult> lookupUser(Directory& d, const std::string& user, int maxMs,
                                           bool* deliveredInside, Timed* timed) {
    return drive<UserLookupResult>(
        d, [&](auto cb) { d.lookupUser(user, cb); }, maxMs, deliveredInside, timed);
}

std::optional<MailboxLookupResult> lookupMailboxes(Directory& d, const std::string& user, int maxMs) {
    return drive<MailboxLookupResult>(
        d, [&](auto cb) { d.lookupRemoteMailboxes(user, cb); }, maxMs, nullptr, nullptr);
}

std::optional<UserLookupResult> lookupUntilFound(Directory& d, const std::string& user, int maxMs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(maxMs);
    std::optional<UserLookupResult> r;
    while (std::chrono::steady_clock::now() < deadline) {
        r = lookupUser(d, user, maxMs);
        if (r && r->status == DirectoryStatus::Found) return r;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return r;
}

bool anyContains(const std::vector<std::string>& texts, const std::string& needle) {
    for (const auto& t : texts) {
        if (t.find(needle) != std::string::npos) return true;
    }
    return false;
}

}  // namespace dref::test
