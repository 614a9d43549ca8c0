#include "owner_listing.h"

#include <algorithm>

#include "mutf7.h"
#include "response_text.h"

namespace dref {
namespace {

constexpr size_t kMaxNameLength = 1024;  // as for directory names

// Why `name` (below `prefix`, the entry plus separator) cannot be listed,
// or nullptr when it can.
const char* refusal(std::string_view name, std::string_view prefix, char sep) {
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
        return "outside the entry's subtree";
    if (name.size() > kMaxNameLength) return "longer than 1024 octets";
    if (!isValidUtf8(name)) return "not valid UTF-8";
    const std::string_view rest = name.substr(prefix.size());
    size_t levelStart = 0;
    for (size_t i = 0; i <= rest.size(); ++i) {
        if (i == rest.size() || rest[i] == sep) {
            if (i == levelStart) return "empty hierarchy level";
            // A "." or ".." level names no mailbox of its own (the same
            // one, or its parent: "x/.." is the entry itself); the relay
            // does not open such names either (decideInRelayNamespace).
            const std::string_view level = rest.substr(levelStart, i - levelStart);
            if (level == "." || level == "..") return "'.' or '..' hierarchy level";
            levelStart = i + 1;
            continue;
        }
        const auto c = static_cast<unsigned char>(rest[i]);
        if (c < 0x20 || c == 0x7f) return "control character";
        if (c == '*' || c == '%') return "LIST wildcard";
    }
    return nullptr;
}

}  // namespace

std::vector<OwnerMailbox> validateOwnerListing(const RemoteMailboxTable& table,
                                               const RemoteMailboxEntry& entry,
                                               std::vector<OwnerMailbox> raw, size_t maxNames,
                                               std::vector<std::string>* warnings) {
    const char sep = table.separator();
    std::string prefix(entry.vname());
    prefix.push_back(sep);
    std::map<std::string, size_t> refused;  // reason -> count
    std::map<std::string, std::string> example;
    std::vector<OwnerMailbox> kept;
    kept.reserve(std::min(raw.size(), maxNames));
    for (OwnerMailbox& m : raw) {
        const char* why = refusal(m.vname, prefix, sep);
        if (why == nullptr) {
            // A longer entry covers it: that subtree is listed from the
            // directory (and its own owner), not from this one.
            std::optional<RemoteMailboxMatch> match = table.find(m.vname);
            if (!match || match->entry != entry) why = "inside another remote entry";
        }
        if (why != nullptr) {
            if (refused[why]++ == 0) example[why] = m.vname;
            continue;
        }
        kept.push_back(std::move(m));
    }
    std::sort(kept.begin(), kept.end(),
              [](const OwnerMailbox& a, const OwnerMailbox& b) { return a.vname < b.vname; });
    // Duplicates: selectable if any copy is.
    std::vector<OwnerMailbox> out;
    out.reserve(kept.size());
    for (OwnerMailbox& m : kept) {
        if (!out.empty() && out.back().vname == m.vname) {
            out.back().noselect = out.back().noselect && m.noselect;
            continue;
        }
        out.push_back(std::move(m));
    }
    if (out.size() > maxNames) {
        if (warnings != nullptr)
            warnings->push_back("owner listing of " + quoteForLog(entry.vname()) + ": " +
                                std::to_string(out.size() - maxNames) + " of " +
                                std::to_string(out.size()) + " names dropped (at most " +
                                std::to_string(maxNames) + " per entry)");
        out.resize(maxNames);
    }
    if (warnings != nullptr)
        for (const auto& r : refused)
            warnings->push_back("owner listing of " + quoteForLog(entry.vname()) + ": " +
                                std::to_string(r.second) + " name(s) refused (" + r.first +
                                "), e.g. " + quoteForLog(example[r.first]));
    return out;
}

OwnerListReply classifyOwnerListReply(std::string_view name, std::string_view prefix,
                                      char sep) noexcept {
    if (name.empty()) return OwnerListReply::Accept;
    for (char c : name)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            return OwnerListReply::Refuse;
    if (prefix.empty() || name.size() < prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
        return OwnerListReply::Refuse;
    if (name.size() == prefix.size()) return OwnerListReply::Accept;
    if (name[prefix.size()] != sep) return OwnerListReply::Sibling;
    // A "." or ".." level below the entry: no mailbox of its own, and
    // imapc would put its parent levels into its tree ("x/.." makes "x").
    size_t start = prefix.size() + 1;
    while (start <= name.size()) {
        size_t end = name.find(sep, start);
        if (end == std::string_view::npos) end = name.size();
        const std::string_view level = name.substr(start, end - start);
        if (level == "." || level == "..") return OwnerListReply::Refuse;
        start = end + 1;
    }
    return OwnerListReply::Accept;
}

bool listingMayAddRelayNamespaces(const RemoteMailboxTable& table,
                                  const RelayConnectionSettings& relay) {
    return table.size() <= relay.maxMailboxes;
}

bool OwnerListingCache::due(std::string_view entry, int64_t nowMs) const {
    auto it = items_.find(entry);
    if (it == items_.end()) return true;
    const int64_t ttl = it->second.failed ? failureTtlMs_ : ttlMs_;
    return nowMs - it->second.atMs >= ttl || nowMs < it->second.atMs;
}

void OwnerListingCache::storeAnswer(std::string_view entry, std::vector<OwnerMailbox> names,
                                    int64_t nowMs) {
    Item& item = items_[std::string(entry)];
    item.names = std::move(names);
    item.atMs = nowMs;
    item.failed = false;
}

void OwnerListingCache::storeFailure(std::string_view entry, int64_t nowMs) {
    // An owner that failed lists nothing: its older answer is not shown,
    // the entry is listed as the directory holds it.
    Item& item = items_[std::string(entry)];
    item.names.clear();
    item.names.shrink_to_fit();
    item.atMs = nowMs;
    item.failed = true;
}

const std::vector<OwnerMailbox>* OwnerListingCache::names(std::string_view entry,
                                                          int64_t nowMs) const {
    auto it = items_.find(entry);
    if (it == items_.end() || it->second.failed) return nullptr;
    if (nowMs - it->second.atMs >= ttlMs_ || nowMs < it->second.atMs) return nullptr;
    return &it->second.names;
}

void OwnerListingCache::retainEntriesOf(const RemoteMailboxTable& table) {
    for (auto it = items_.begin(); it != items_.end();) {
        std::optional<RemoteMailboxMatch> match = table.find(it->first);
        if (match && match->inferior.empty())
            ++it;
        else
            it = items_.erase(it);
    }
}

}  // namespace dref
