// Where a remote mailbox's location may be referred to (R2193-3,
// REQUIREMENTS §2.6 item 3): TargetVerdicts, which remembers the verdict of
// the last host and port, and the warning text of a refused location.
#include "target_verdicts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "referral_decision.h"

using dref::HomeServer;
using dref::ImapUrlParts;
using dref::TargetVerdicts;
using Verdict = dref::TargetVerdicts::Verdict;

namespace {

ImapUrlParts loc(const std::string& host, uint16_t port = 143) {
    ImapUrlParts p;
    p.host = host;
    p.port = port;
    return p;
}

const std::vector<std::string> kLocal = {"127.0.0.40", "home1.example.test:10143"};
const std::vector<std::string> kAllowed = {"home?.example.test", "127.0.0.*"};

}  // namespace

// R2193-3 before §2.6 item 3: this server is ThisServer even where
// allowed_hosts would refuse it; an empty allowed_hosts allows every host.
TEST(TargetVerdicts, ThisServerThenAllowedHosts_R2193_3) {
    TargetVerdicts v(kLocal, kAllowed);
    EXPECT_EQ(v.of(loc("home1.example.test", 10143)), Verdict::ThisServer);
    EXPECT_EQ(v.of(loc("home1.example.test", 143)), Verdict::Usable);
    EXPECT_EQ(v.of(loc("127.0.0.40", 993)), Verdict::ThisServer);  // any port
    EXPECT_EQ(v.of(loc("127.0.0.41")), Verdict::Usable);
    EXPECT_EQ(v.of(loc("evil.example.org")), Verdict::NotAllowed);

    const std::vector<std::string> onlyElsewhere = {"home2.example.test"};
    TargetVerdicts strict(kLocal, onlyElsewhere);
    EXPECT_EQ(strict.of(loc("127.0.0.40")), Verdict::ThisServer);  // not allowed either
    EXPECT_EQ(strict.of(loc("home3.example.test")), Verdict::NotAllowed);

    const std::vector<std::string> none;
    TargetVerdicts open(kLocal, none);
    EXPECT_EQ(open.of(loc("evil.example.org")), Verdict::Usable);
    EXPECT_EQ(open.of(loc("home1.example.test", 10143)), Verdict::ThisServer);
}

// The remembered verdict never changes an answer: in a sequence that
// repeats a server after another port, another case, a trailing dot, a
// refused or a usable location, every location gets what isThisServer and
// isAllowedTarget say of its own host and port.
TEST(TargetVerdicts, EveryLocationGetsItsOwnHostsAndPortsVerdict) {
    const std::vector<ImapUrlParts> sequence = {
        loc("home1.example.test", 10143), loc("home1.example.test", 10143),
        loc("home1.example.test", 143),   loc("home1.example.test", 10143),
        loc("HOME1.example.test", 10143), loc("home1.example.test.", 10143),
        loc("evil.example.org"),          loc("evil.example.org"),
        loc("evil.example.org", 10143),   loc("home2.example.test"),
        loc("home2.example.test"),        loc("home2.example.test."),
        loc("127.0.0.40"),                loc("127.0.0.40", 10143),
        loc("127.0.0.41"),                loc("evil.example.org"),
        loc("home1.example.test", 10143),
    };
    TargetVerdicts verdicts(kLocal, kAllowed);
    for (int pass = 0; pass < 2; ++pass) {
        for (const ImapUrlParts& l : sequence) {
            Verdict expected = Verdict::Usable;
            if (dref::isThisServer(HomeServer{l.host, l.port}, kLocal))
                expected = Verdict::ThisServer;
            else if (!dref::isAllowedTarget(l.host, kAllowed))
                expected = Verdict::NotAllowed;
            EXPECT_EQ(verdicts.of(l), expected) << l.host << ":" << l.port;
        }
    }
}

// The build's warning for a refused location names its host (quoted for
// logs) and port and says why.
TEST(TargetVerdicts, VerdictTextNamesHostPortAndReason) {
    EXPECT_EQ(dref::targetVerdictText(loc("home1.example.test", 10143), Verdict::ThisServer),
              "location home1.example.test:10143 is this server, treated as local");
    EXPECT_EQ(dref::targetVerdictText(loc("evil.example.org"), Verdict::NotAllowed),
              "location evil.example.org:143 skipped: host not in allowed_hosts");
    EXPECT_EQ(dref::targetVerdictText(loc("home2.example.test"), Verdict::Usable),
              "location home2.example.test:143 may be referred to");
    EXPECT_EQ(dref::targetVerdictText(loc("bad\r\nhost"), Verdict::NotAllowed),
              "location bad\\x0D\\x0Ahost:143 skipped: host not in allowed_hosts");
}
