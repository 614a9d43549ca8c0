#include "list_pattern.h"

#include <vector>

namespace dref {
namespace {

constexpr std::string_view kInbox = "INBOX";

char asciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool equalsNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (asciiUpper(a[i]) != asciiUpper(b[i])) return false;
    return true;
}

// Length of the name's leading INBOX level (5) when its first level is
// INBOX in any case, else 0: those octets compare case-insensitively.
size_t inboxLevelLength(std::string_view name, char sep) {
    if (name.size() < kInbox.size()) return 0;
    if (name.size() > kInbox.size() && name[kInbox.size()] != sep) return 0;
    return equalsNoCase(name.substr(0, kInbox.size()), kInbox) ? kInbox.size() : 0;
}

}  // namespace

std::string normalizeInboxPrefix(std::string_view name, char separator) {
    std::string out(name);
    if (inboxLevelLength(name, separator) != 0) out.replace(0, kInbox.size(), kInbox);
    return out;
}

ListPattern::ListPattern(std::string_view reference, std::string_view pattern, char separator)
    : separator_(separator) {
    joined_.reserve(reference.size() + pattern.size());
    joined_.append(reference);
    joined_.append(pattern);

    size_t wildcard = joined_.find_first_of("*%");
    std::string_view prefix = std::string_view(joined_).substr(
        0, wildcard == std::string::npos ? joined_.size() : wildcard);
    size_t firstSep = prefix.find(separator_);
    if (firstSep == std::string_view::npos && wildcard != std::string::npos) {
        // The first level is still open ("inb%", "INBOX*"): INBOX-cased
        // names may match although their octets differ from the prefix.
        size_t n = prefix.size() < kInbox.size() ? prefix.size() : kInbox.size();
        prefixMayMatchInboxCase_ = equalsNoCase(prefix.substr(0, n), kInbox.substr(0, n));
    }
    literalPrefix_ = normalizeInboxPrefix(prefix, separator_);
}

bool ListPattern::endsWithPercent() const { return !joined_.empty() && joined_.back() == '%'; }

bool ListPattern::matches(std::string_view name) const {
    const std::string_view pat = joined_;
    const size_t inboxLen = inboxLevelLength(name, separator_);
    auto charEq = [&](char p, size_t ni) {
        return ni < inboxLen ? asciiUpper(p) == asciiUpper(name[ni]) : p == name[ni];
    };
    // reach[j]: the pattern prefix consumed so far matches name[0..j).
    std::vector<char> reach(name.size() + 1, 0), next(name.size() + 1, 0);
    reach[0] = 1;
    for (char p : pat) {
        std::fill(next.begin(), next.end(), 0);
        if (p == '*' || p == '%') {
            // Zero or more characters; '%' may not cross the separator.
            bool carry = false;
            for (size_t j = 0; j <= name.size(); ++j) {
                if (reach[j]) carry = true;
                next[j] = carry;
                if (j < name.size() && p == '%' && name[j] == separator_) carry = false;
            }
        } else {
            for (size_t j = 0; j < name.size(); ++j)
                if (reach[j] && charEq(p, j)) next[j + 1] = 1;
        }
        reach.swap(next);
    }
    return reach[name.size()] != 0;
}

bool ListPattern::mayMatchBelow(std::string_view name) const {
    // Runs the pattern over name + separator as a set of pattern positions
    // (an NFA without backtracking); any live position that still has
    // pattern left can match some continuation.
    const std::string_view pat = joined_;
    std::string below(name);
    below.push_back(separator_);
    const size_t inboxLen = inboxLevelLength(below, separator_);
    std::vector<char> live(pat.size() + 1, 0), next(pat.size() + 1, 0);
    auto close = [&](std::vector<char>& set) {
        // A wildcard may match nothing: its position implies the next one.
        for (size_t i = 0; i < pat.size(); ++i)
            if (set[i] && (pat[i] == '*' || pat[i] == '%')) set[i + 1] = 1;
    };
    live[0] = 1;
    close(live);
    for (size_t ni = 0; ni < below.size(); ++ni) {
        const char c = below[ni];
        std::fill(next.begin(), next.end(), 0);
        for (size_t i = 0; i < pat.size(); ++i) {
            if (!live[i]) continue;
            const char p = pat[i];
            if (p == '*' || (p == '%' && c != separator_))
                next[i] = 1;
            else if (p != '%' && (ni < inboxLen ? asciiUpper(p) == asciiUpper(c) : p == c))
                next[i + 1] = 1;
        }
        close(next);
        live.swap(next);
    }
    for (size_t i = 0; i < pat.size(); ++i)
        if (live[i]) return true;
    return false;
}

}  // namespace dref
