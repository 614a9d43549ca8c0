#pragma once
// A bounded map with a time-to-live per entry and least-recently-used
// eviction, keyed by login name.  Not thread-safe: the directory uses it on
// the caller's thread only.
#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace dref {

template <class Value>
class TtlCache {
public:
    using Clock = std::chrono::steady_clock;

    explicit TtlCache(size_t capacity) : capacity_(capacity) {}

    // The live value for `key` (now refreshed as most recently used), or
    // nullptr.  An expired entry is removed on the way.
    const Value* get(const std::string& key, Clock::time_point now) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        if (it->second->expires <= now) {
            lru_.erase(it->second);
            index_.erase(it);
            return nullptr;
        }
        lru_.splice(lru_.begin(), lru_, it->second);
        return &it->second->value;
    }

    // Stores (or replaces) `key`; evicts the least recently used entry when
    // full.  A zero capacity or a TTL <= 0 stores nothing.
    void put(const std::string& key, Value value, Clock::duration ttl, Clock::time_point now) {
        if (capacity_ == 0 || ttl <= Clock::duration::zero()) return;
        auto it = index_.find(key);
        if (it != index_.end()) {
            lru_.erase(it->second);
            index_.erase(it);
        }
        while (lru_.size() >= capacity_) {
            index_.erase(lru_.back().key);
            lru_.pop_back();
        }
        lru_.push_front(Item{key, std::move(value), now + ttl});
        index_.emplace(key, lru_.begin());
    }

    void clear() {
        lru_.clear();
        index_.clear();
    }

    size_t size() const { return lru_.size(); }
    // 0: put() stores nothing (callers skip building a value for it).
    size_t capacity() const { return capacity_; }

private:
    struct Item {
        std::string key;
        Value value;
        Clock::time_point expires;
    };
    size_t capacity_;
    std::list<Item> lru_;  // most recently used first
    std::unordered_map<std::string, typename std::list<Item>::iterator> index_;
};

}  // namespace dref
