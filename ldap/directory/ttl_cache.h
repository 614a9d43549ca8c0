#pragma once
// A bounded map with a time-to-live per entry and least-recently-used
// eviction, keyed by login name.  Bounded by a number of entries and,
// optionally, by bytes: put() says what an entry costs and the least
// recently used entries go until the new one fits (the referral-directory
// service keeps whole encoded answers, from a few hundred bytes to several
// megabytes each, so a count alone does not bound its memory).  Not
// thread-safe: the directory uses it on the caller's thread only.
//
// Its nodes and keys come from a memory resource of the owner's choice.
// A cache that lives as long as the process and fills one entry at a
// time, between the allocations of the work that produced it, would
// otherwise leave its entries scattered over the heap with the freed
// leftovers of that work stuck between them: thousands of small free
// chunks that the process's later allocations (Dovecot's own, at every
// login) go through and touch cold (issue 13; docs/benchmarks.md,
// "Session 16").  A pool resource keeps the entries together in blocks of
// their own.  A Value that takes a polymorphic allocator (std::pmr::string)
// is stored with the same resource.
#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <list>
#include <memory_resource>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace dref {

template <class Value>
class TtlCache {
public:
    using Clock = std::chrono::steady_clock;

    // What get() does with an entry past its TTL.
    enum class Expired {
        Drop,  // removed on the way
        Keep,  // kept (still bounded by both bounds) for lastKnown()
    };

    // `memory`: where the entries live (nullptr: the default resource,
    // i.e. operator new); it must outlive the cache.
    explicit TtlCache(size_t capacity, size_t maxBytes = std::numeric_limits<size_t>::max(),
                      Expired expiredEntries = Expired::Drop,
                      std::pmr::memory_resource* memory = nullptr)
        : capacity_(capacity),
          maxBytes_(maxBytes),
          keepExpired_(expiredEntries == Expired::Keep),
          lru_(Allocator(memory != nullptr ? memory : std::pmr::get_default_resource())),
          index_(Allocator(memory != nullptr ? memory : std::pmr::get_default_resource())) {}

    TtlCache(const TtlCache&) = delete;
    TtlCache& operator=(const TtlCache&) = delete;

    // The live value for `key` (now refreshed as most recently used), or
    // nullptr.  An expired entry is removed on the way unless the cache keeps
    // them.
    const Value* get(std::string_view key, Clock::time_point now) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        if (it->second->expires <= now) {
            if (!keepExpired_) erase(it);
            return nullptr;
        }
        lru_.splice(lru_.begin(), lru_, it->second);
        return &it->second->value;
    }

    // Moves the live value for `key` out into *out and removes the entry
    // (one-shot values); false when there is none (an expired one is dropped).
    bool take(std::string_view key, Clock::time_point now, Value* out) {
        auto it = index_.find(key);
        if (it == index_.end()) return false;
        const bool live = it->second->expires > now;
        if (live) *out = std::move(it->second->value);
        erase(it);
        return live;
    }

    // The last value stored for `key` whatever its age (Expired::Keep: the
    // answer to fall back on when its source fails, as Dovecot's auth cache
    // falls back to expired data), with how long ago it expired (zero when
    // it has not).  nullptr when the key was never stored, was replaced by a
    // value that could not be kept, or was evicted.
    const Value* lastKnown(std::string_view key, Clock::time_point now, Clock::duration* expiredFor) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        *expiredFor = it->second->expires <= now ? now - it->second->expires : Clock::duration::zero();
        return &it->second->value;
    }

    // Stores (or replaces) `key`, costing `bytes` of the byte bound; evicts
    // least recently used entries until it fits.  A zero capacity, a TTL <= 0
    // or an entry larger than the whole byte bound stores nothing (and drops
    // the key's older value: it must not outlive the newer answer).
    void put(std::string_view key, Value value, Clock::duration ttl, Clock::time_point now,
             size_t bytes = 0) {
        auto it = index_.find(key);
        if (it != index_.end()) erase(it);
        if (capacity_ == 0 || ttl <= Clock::duration::zero() || bytes > maxBytes_) return;
        while (!lru_.empty() && (lru_.size() >= capacity_ || bytes > maxBytes_ - bytes_)) {
            erase(index_.find(lru_.back().key));
        }
        lru_.emplace_front(key, std::move(value), now + ttl, bytes);
        // The index's key is a view of the entry's own key: one copy.
        index_.emplace(std::string_view(lru_.front().key), lru_.begin());
        bytes_ += bytes;
    }

    void clear() {
        index_.clear();
        lru_.clear();
        bytes_ = 0;
    }

    size_t size() const { return lru_.size(); }
    // Sum of the `bytes` of the entries held (expired ones not yet looked at
    // included: they go when looked up or evicted).
    size_t bytes() const { return bytes_; }
    // 0: put() stores nothing (callers skip building a value for it).
    size_t capacity() const { return capacity_; }

private:
    using Allocator = std::pmr::polymorphic_allocator<std::byte>;

    // Built by the list with its allocator (uses-allocator construction),
    // so that the key, and a Value that takes one, are in the same memory.
    struct Item {
        using allocator_type = Allocator;
        Item(std::string_view k, Value&& v, Clock::time_point e, size_t b, const allocator_type& a)
            : key(k, a), value(storedValue(std::move(v), a)), expires(e), bytes(b) {}
        std::pmr::string key;
        Value value;
        Clock::time_point expires;
        size_t bytes;
    };
    using List = std::list<Item, std::pmr::polymorphic_allocator<Item>>;
    using Index = std::unordered_map<
        std::string_view, typename List::iterator, std::hash<std::string_view>,
        std::equal_to<std::string_view>,
        std::pmr::polymorphic_allocator<std::pair<const std::string_view, typename List::iterator>>>;

    static Value storedValue(Value&& v, const Allocator& a) {
        if constexpr (std::uses_allocator_v<Value, Allocator>)
            return Value(std::move(v), a);  // a copy into `a` unless v already lives there
        else
            return std::move(v);
    }

    void erase(typename Index::iterator it) {
        const typename List::iterator item = it->second;
        bytes_ -= item->bytes;
        index_.erase(it);  // first: its key is a view of the item's
        lru_.erase(item);
    }

    size_t capacity_;
    size_t maxBytes_;
    bool keepExpired_;
    size_t bytes_ = 0;
    List lru_;  // most recently used first
    Index index_;
};

}  // namespace dref
