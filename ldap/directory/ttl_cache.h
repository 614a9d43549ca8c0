#pragma once
// A bounded map with a time-to-live per entry and least-recently-used
// eviction, keyed by login name.  Bounded by a number of entries and,
// optionally, by bytes: put() says what an entry costs and the least
// recently used entries go until the new one fits (the referral-directory
// service keeps whole encoded answers, from a few hundred bytes to several
// megabytes each, so a count alone does not bound its memory).  Not
// thread-safe: the directory uses it on the caller's thread only.
#include <chrono>
#include <cstddef>
#include <limits>
#include <list>
#include <string>
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

    explicit TtlCache(size_t capacity, size_t maxBytes = std::numeric_limits<size_t>::max(),
                      Expired expiredEntries = Expired::Drop)
        : capacity_(capacity), maxBytes_(maxBytes), keepExpired_(expiredEntries == Expired::Keep) {}

    // The live value for `key` (now refreshed as most recently used), or
    // nullptr.  An expired entry is removed on the way unless the cache keeps
    // them.
    const Value* get(const std::string& key, Clock::time_point now) {
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
    bool take(const std::string& key, Clock::time_point now, Value* out) {
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
    const Value* lastKnown(const std::string& key, Clock::time_point now, Clock::duration* expiredFor) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        *expiredFor = it->second->expires <= now ? now - it->second->expires : Clock::duration::zero();
        return &it->second->value;
    }

    // Stores (or replaces) `key`, costing `bytes` of the byte bound; evicts
    // least recently used entries until it fits.  A zero capacity, a TTL <= 0
    // or an entry larger than the whole byte bound stores nothing (and drops
    // the key's older value: it must not outlive the newer answer).
    void put(const std::string& key, Value value, Clock::duration ttl, Clock::time_point now,
             size_t bytes = 0) {
        auto it = index_.find(key);
        if (it != index_.end()) erase(it);
        if (capacity_ == 0 || ttl <= Clock::duration::zero() || bytes > maxBytes_) return;
        while (!lru_.empty() && (lru_.size() >= capacity_ || bytes > maxBytes_ - bytes_)) {
            erase(index_.find(lru_.back().key));
        }
        lru_.push_front(Item{key, std::move(value), now + ttl, bytes});
        index_.emplace(key, lru_.begin());
        bytes_ += bytes;
    }

    void clear() {
        lru_.clear();
        index_.clear();
        bytes_ = 0;
    }

    size_t size() const { return lru_.size(); }
    // Sum of the `bytes` of the entries held (expired ones not yet looked at
    // included: they go when looked up or evicted).
    size_t bytes() const { return bytes_; }
    // 0: put() stores nothing (callers skip building a value for it).
    size_t capacity() const { return capacity_; }

private:
    struct Item {
        std::string key;
        Value value;
        Clock::time_point expires;
        size_t bytes;
    };
    using Index = std::unordered_map<std::string, typename std::list<Item>::iterator>;

    void erase(typename Index::iterator it) {
        bytes_ -= it->second->bytes;
        lru_.erase(it->second);
        index_.erase(it);
    }

    size_t capacity_;
    size_t maxBytes_;
    bool keepExpired_;
    size_t bytes_ = 0;
    std::list<Item> lru_;  // most recently used first
    Index index_;
};

}  // namespace dref
