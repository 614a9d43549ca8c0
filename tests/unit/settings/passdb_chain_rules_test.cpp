// plugin/core/settings/passdb_chain_rules: where the referral passdb may
// stand, in chain mode and in password mode.
#include "passdb_chain_rules.h"

#include <gtest/gtest.h>

namespace dref {
namespace {

PassdbPosition chainModeOk() {
    PassdbPosition p;
    p.handedOver = true;
    p.skip = PassdbSkip::Unauthenticated;
    p.internalFailReturnsFail = true;
    return p;
}

bool mentions(const std::string& text, const char* what) {
    return text.find(what) != std::string::npos;
}

TEST(PassdbChainRules, ChainMode) {
    EXPECT_EQ(passdbChainProblem(chainModeOk(), false), "");
    PassdbPosition p = chainModeOk();
    p.first = true;
    p.handedOver = false;
    EXPECT_TRUE(mentions(passdbChainProblem(p, false), "must not be the first passdb"));
    EXPECT_TRUE(mentions(passdbChainProblem(p, false), "password_attribute"));
    p = chainModeOk();
    p.handedOver = false;
    EXPECT_TRUE(mentions(passdbChainProblem(p, false), "continue-ok"));
    for (PassdbSkip skip : {PassdbSkip::Never, PassdbSkip::Authenticated}) {
        p = chainModeOk();
        p.skip = skip;
        EXPECT_TRUE(mentions(passdbChainProblem(p, false), "needs skip = unauthenticated"));
    }
    p = chainModeOk();
    p.internalFailReturnsFail = false;
    EXPECT_TRUE(mentions(passdbChainProblem(p, false), "return-fail"));
}

TEST(PassdbChainRules, PasswordModeMayStandAlone) {
    PassdbPosition alone;
    alone.first = true;
    alone.internalFailReturnsFail = true;
    EXPECT_EQ(passdbChainProblem(alone, true), "");
    // After another passdb, with or without a hand-over, skip = authenticated too.
    PassdbPosition later = alone;
    later.first = false;
    later.handedOver = true;
    later.skip = PassdbSkip::Authenticated;
    EXPECT_EQ(passdbChainProblem(later, true), "");
}

TEST(PassdbChainRules, PasswordModeRefusesContradictions) {
    PassdbPosition p;
    p.first = true;
    p.internalFailReturnsFail = true;
    p.skip = PassdbSkip::Unauthenticated;
    EXPECT_TRUE(mentions(passdbChainProblem(p, true), "skip = unauthenticated"));
    p.skip = PassdbSkip::Never;
    p.internalFailReturnsFail = false;
    EXPECT_TRUE(mentions(passdbChainProblem(p, true), "return-fail"));
}

}  // namespace
}  // namespace dref
