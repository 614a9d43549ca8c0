// The error line of an internal error in the referral passdb: every one is
// logged, naming the step and the exception (the rule: every failure gets
// a clear log line).
#include <gtest/gtest.h>

#include <string>

#include "internal_error_line.h"

using namespace dref;

TEST(InternalErrorLine, NamesTheStepTheErrorAndTheAnswer) {
    EXPECT_EQ(internalErrorLogLine(PassdbStep::Lookup, "std::bad_alloc"),
              "internal error during the home server lookup: std::bad_alloc; "
              "login answered NO [UNAVAILABLE]");
    EXPECT_EQ(internalErrorLogLine(PassdbStep::Decision, "epoll_ctl: Bad file descriptor"),
              "internal error during the password check and decision: "
              "epoll_ctl: Bad file descriptor; login answered NO [UNAVAILABLE]");
}

TEST(InternalErrorLine, UnknownExceptionHasAText) {
    EXPECT_EQ(internalErrorLogLine(PassdbStep::Lookup, nullptr),
              "internal error during the home server lookup: unknown exception; "
              "login answered NO [UNAVAILABLE]");
}

// An exception's text is not ours to trust: one line, bounded.
TEST(InternalErrorLine, ExceptionTextQuotedAndCut) {
    const std::string what = "bad\r\nforged line" + std::string(500, 'x');
    const std::string line = internalErrorLogLine(PassdbStep::Decision, what.c_str());
    EXPECT_EQ(line.find('\r'), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    EXPECT_NE(line.find("bad\\x0D\\x0Aforged line"), std::string::npos) << line;
    EXPECT_LT(line.size(), 300u) << line;
}
