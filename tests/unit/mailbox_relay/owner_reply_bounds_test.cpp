// What an owning server may send the relay's imapc during one command of the
// client (plugin/core/mailbox_relay/owner_reply_bounds, docs/mailbox-relay.md §3.8).
#include "owner_reply_bounds.h"

#include <gtest/gtest.h>

using dref::OwnerReplyBudget;
using dref::OwnerReplyKind;

TEST(OwnerReplyBoundsTest, RepliesAreClassifiedByName) {
    EXPECT_EQ(dref::classifyOwnerUntagged("LIST"), OwnerReplyKind::Listing);
    EXPECT_EQ(dref::classifyOwnerUntagged("lsub"), OwnerReplyKind::Listing);
    for (const char* name : {"FETCH", "fetch", "EXPUNGE", "VANISHED", "EXISTS", "Recent"})
        EXPECT_EQ(dref::classifyOwnerUntagged(name), OwnerReplyKind::PerMessage) << name;
    for (const char* name : {"OK", "NO", "BAD", "BYE", "CAPABILITY", "FLAGS", "SEARCH", "STATUS",
                             "FETCHX", "LISTS", "", "EXISTSFETCH"})
        EXPECT_EQ(dref::classifyOwnerUntagged(name), OwnerReplyKind::Other) << name;
}

TEST(OwnerReplyBoundsTest, OtherRepliesAreBoundedPerCommand) {
    OwnerReplyBudget budget;
    for (size_t i = 0; i < dref::kMaxOwnerUntaggedPerCommand; ++i)
        ASSERT_TRUE(budget.admit(1, OwnerReplyKind::Other)) << i;
    EXPECT_FALSE(budget.admit(1, OwnerReplyKind::Other));
    EXPECT_FALSE(budget.admit(1, OwnerReplyKind::Other));  // stays over until the next command
    // Listing answers have their own bound; per-message replies their own count.
    EXPECT_TRUE(budget.admit(1, OwnerReplyKind::Listing));
    EXPECT_TRUE(budget.admit(1, OwnerReplyKind::PerMessage));
    // The client's next command starts a new count.
    EXPECT_TRUE(budget.admit(2, OwnerReplyKind::Other));
}

TEST(OwnerReplyBoundsTest, PerMessageRepliesHaveTheirOwnLargerBound) {
    OwnerReplyBudget budget;
    for (size_t i = 0; i < dref::kMaxOwnerMessageRepliesPerCommand; ++i)
        if (!budget.admit(7, OwnerReplyKind::PerMessage)) FAIL() << i;
    EXPECT_FALSE(budget.admit(7, OwnerReplyKind::PerMessage));
    EXPECT_TRUE(budget.admit(7, OwnerReplyKind::Other));
    EXPECT_TRUE(budget.admit(8, OwnerReplyKind::PerMessage));
    static_assert(dref::kMaxOwnerMessageRepliesPerCommand > dref::kMaxOwnerUntaggedPerCommand,
                  "a SELECT brings one FETCH per message");
}
