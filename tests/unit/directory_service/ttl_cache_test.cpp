// The TTL cache's two bounds (ldap/directory/ttl_cache.h): entries and
// bytes.  The referral-directory service keeps encoded answers of very
// different sizes in it; cache_max_bytes is what bounds its memory.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <memory_resource>
#include <string>

#include "ttl_cache.h"

namespace dref {
namespace {

using Cache = TtlCache<std::string>;
const auto kTtl = std::chrono::seconds(60);

TEST(TtlCache, ByteBoundEvictsLeastRecentlyUsedUntilTheNewEntryFits) {
    Cache c(100, 1000);
    const auto now = Cache::Clock::now();
    c.put("a", "A", kTtl, now, 400);
    c.put("b", "B", kTtl, now, 400);
    ASSERT_NE(c.get("a", now), nullptr);  // a is now the most recently used
    c.put("c", "C", kTtl, now, 400);      // 1200 > 1000: b goes, not a
    EXPECT_EQ(c.get("b", now), nullptr);
    EXPECT_NE(c.get("a", now), nullptr);
    EXPECT_NE(c.get("c", now), nullptr);
    EXPECT_EQ(c.bytes(), 800u);
    c.put("d", "D", kTtl, now, 1000);  // takes the whole bound: both others go
    EXPECT_EQ(c.size(), 1u);
    EXPECT_EQ(c.bytes(), 1000u);
}

TEST(TtlCache, TakeMovesALiveValueOutOnceAndDropsAnExpiredOne) {
    Cache c(100, 1000);
    const auto now = Cache::Clock::now();
    c.put("a", "A", kTtl, now, 400);
    c.put("b", "B", std::chrono::milliseconds(10), now, 100);
    std::string out;
    ASSERT_TRUE(c.take("a", now, &out));
    EXPECT_EQ(out, "A");
    EXPECT_EQ(c.bytes(), 100u);
    EXPECT_FALSE(c.take("a", now, &out)) << "a one-shot value was handed out twice";
    out = "untouched";
    EXPECT_FALSE(c.take("b", now + std::chrono::milliseconds(10), &out));
    EXPECT_EQ(out, "untouched");
    EXPECT_EQ(c.size(), 0u) << "the expired entry stayed";
    EXPECT_EQ(c.bytes(), 0u);
}

TEST(TtlCache, EntryLargerThanTheBoundIsNotKeptAndDropsTheOlderValue) {
    Cache c(100, 1000);
    const auto now = Cache::Clock::now();
    c.put("a", "old", kTtl, now, 100);
    c.put("b", "B", kTtl, now, 100);
    c.put("a", "new", kTtl, now, 1001);
    EXPECT_EQ(c.get("a", now), nullptr) << "the older answer must not outlive the newer one";
    EXPECT_NE(c.get("b", now), nullptr) << "nothing else is evicted for an entry that cannot fit";
    EXPECT_EQ(c.bytes(), 100u);
}

TEST(TtlCache, ReplacingAndExpiringGiveTheirBytesBack) {
    Cache c(100, 1000);
    const auto now = Cache::Clock::now();
    c.put("a", "A", kTtl, now, 300);
    c.put("a", "A2", kTtl, now, 500);
    EXPECT_EQ(c.bytes(), 500u);
    c.put("b", "B", std::chrono::milliseconds(10), now, 200);
    EXPECT_EQ(c.bytes(), 700u);
    EXPECT_EQ(c.get("b", now + std::chrono::seconds(1)), nullptr);  // expired: removed
    EXPECT_EQ(c.bytes(), 500u);
    c.clear();
    EXPECT_EQ(c.bytes(), 0u);
    EXPECT_EQ(c.size(), 0u);
}

TEST(TtlCache, CountBoundStillApplies) {
    Cache c(2);  // no byte bound
    const auto now = Cache::Clock::now();
    c.put("a", "A", kTtl, now, 1u << 30);
    c.put("b", "B", kTtl, now, 1u << 30);
    c.put("c", "C", kTtl, now, 1u << 30);
    EXPECT_EQ(c.size(), 2u);
    EXPECT_EQ(c.get("a", now), nullptr);
    Cache none(0);
    none.put("a", "A", kTtl, now, 1);
    EXPECT_EQ(none.size(), 0u);
}

TEST(TtlCache, KeptExpiredEntryIsNotLiveButIsTheLastKnownAnswer) {
    Cache keep(100, 1000, Cache::Expired::Keep);
    const auto now = Cache::Clock::now();
    keep.put("a", "A", std::chrono::seconds(1), now, 10);
    Cache::Clock::duration expiredFor{};
    ASSERT_NE(keep.lastKnown("a", now, &expiredFor), nullptr);
    EXPECT_EQ(expiredFor, Cache::Clock::duration::zero());
    const auto later = now + std::chrono::seconds(5);
    EXPECT_EQ(keep.get("a", later), nullptr);  // not live
    const std::string* last = keep.lastKnown("a", later, &expiredFor);
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(*last, "A");
    EXPECT_EQ(expiredFor, std::chrono::seconds(4));
    EXPECT_EQ(keep.bytes(), 10u);  // still counted: both bounds still apply
    EXPECT_EQ(keep.lastKnown("b", later, &expiredFor), nullptr);

    Cache drop(100, 1000);  // the default drops it on the way
    drop.put("a", "A", std::chrono::seconds(1), now, 10);
    EXPECT_EQ(drop.get("a", later), nullptr);
    EXPECT_EQ(drop.lastKnown("a", later, &expiredFor), nullptr);
    EXPECT_EQ(drop.bytes(), 0u);
}

// The last answer is the last one stored: a newer answer that cannot be
// kept (a TTL of 0, e.g. negative_cache_ttl = 0 for a user now unknown)
// takes the older one with it, so it never serves as a fallback; and kept
// expired entries still take their place in the entry bound.
TEST(TtlCache, KeptExpiredEntryNeverOutlivesANewerAnswerOrTheBound) {
    Cache keep(2, 1000, Cache::Expired::Keep);
    const auto now = Cache::Clock::now();
    const auto later = now + std::chrono::seconds(5);
    Cache::Clock::duration expiredFor{};
    keep.put("a", "A", std::chrono::seconds(1), now, 10);
    keep.put("a", "A2", std::chrono::seconds(0), later, 10);
    EXPECT_EQ(keep.lastKnown("a", later, &expiredFor), nullptr);

    keep.put("b", "B", std::chrono::seconds(1), now, 10);
    keep.put("c", "C", std::chrono::seconds(1), now, 10);
    EXPECT_EQ(keep.get("b", later), nullptr);  // expired, kept, not refreshed as used
    keep.put("d", "D", std::chrono::seconds(1), later, 10);  // bound 2: b goes first
    EXPECT_EQ(keep.lastKnown("b", later, &expiredFor), nullptr);
    EXPECT_NE(keep.lastKnown("c", later, &expiredFor), nullptr);
    EXPECT_EQ(keep.size(), 2u);
}

// A resource that counts what is outstanding, on top of the default one.
class CountingResource : public std::pmr::memory_resource {
public:
    size_t outstanding = 0;

private:
    void* do_allocate(size_t bytes, size_t align) override {
        outstanding += bytes;
        return std::pmr::new_delete_resource()->allocate(bytes, align);
    }
    void do_deallocate(void* p, size_t bytes, size_t align) override {
        outstanding -= bytes;
        std::pmr::new_delete_resource()->deallocate(p, bytes, align);
    }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }
};

// An entry lives in the cache's resource, key and a std::pmr::string value
// included, however the value was built; and goes back to it with the entry.
TEST(TtlCache, EntriesAndTheirStringsLiveInTheGivenResource) {
    CountingResource memory;
    const std::string longKey(40, 'k');
    const std::string longValue(500, 'v');
    {
        TtlCache<std::pmr::string> c(10, 100000, TtlCache<std::pmr::string>::Expired::Drop, &memory);
        const auto now = Cache::Clock::now();
        c.put(longKey, std::pmr::string(longValue), kTtl, now);  // built with the default resource
        EXPECT_GE(memory.outstanding, longKey.size() + longValue.size());
        const std::pmr::string* v = c.get(longKey, now);
        ASSERT_NE(v, nullptr);
        EXPECT_EQ(std::string_view(*v), longValue);
        EXPECT_EQ(v->get_allocator().resource(), &memory);
        const size_t withOne = memory.outstanding;
        c.put(longKey + "2", std::pmr::string(longValue, &memory), kTtl, now);
        EXPECT_GT(memory.outstanding, withOne);
        c.clear();
    }
    EXPECT_EQ(memory.outstanding, 0u);
}

}  // namespace
}  // namespace dref
