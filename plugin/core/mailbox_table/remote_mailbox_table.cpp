#include "remote_mailbox_table.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "ascii.h"
#include "mutf7.h"
#include "response_text.h"
#include "target_verdicts.h"

namespace dref {
namespace {

constexpr size_t kMaxNameLength = 1024;

constexpr std::string_view kInbox = "INBOX";

// True when the name's first level is INBOX in some case (RFC 3501 §5.1),
// as normalizeInboxPrefix decides it.
bool inboxFirstLevel(std::string_view name, char sep) {
    if (name.size() < kInbox.size()) return false;
    if (name.size() > kInbox.size() && name[kInbox.size()] != sep) return false;
    return equalsIgnoreCaseAscii(name.substr(0, kInbox.size()), kInbox);
}

// FNV-1a, fed one byte at a time so that find() gets the hash of every
// ancestor of a name in one pass; finished with a 64-bit mixer because
// the index uses the low bits.
constexpr uint64_t kHashSeed = 14695981039346656037ull;
inline uint64_t hashStep(uint64_t h, char c) {
    return (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
}
inline uint32_t hashFinish(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return static_cast<uint32_t>(h);
}
uint32_t hashName(std::string_view name) {
    uint64_t h = kHashSeed;
    for (char c : name) h = hashStep(h, c);
    return hashFinish(h);
}

// Appends the vname for a directory name ('/'-separated) with the
// namespace separator to *out.  Returns false and sets *why when the name
// cannot be a vname (*out is then left as it was).
bool appendVname(std::string_view dirName, char sep, std::string* out, std::string* why) {
    if (dirName.empty()) {
        *why = "empty mailbox name";
        return false;
    }
    if (dirName.size() > kMaxNameLength) {
        *why = "mailbox name longer than " + std::to_string(kMaxNameLength) + " octets";
        return false;
    }
    if (!isValidUtf8(dirName)) {
        *why = "mailbox name is not valid UTF-8";
        return false;
    }
    size_t levelStart = 0;
    for (size_t i = 0; i <= dirName.size(); ++i) {
        if (i == dirName.size() || dirName[i] == '/') {
            if (i == levelStart) {
                *why = "empty hierarchy level in mailbox name";
                return false;
            }
            levelStart = i + 1;
            continue;
        }
        char c = dirName[i];
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            *why = "control character in mailbox name";
            return false;
        }
        if (c == '*' || c == '%') {
            *why = "LIST wildcard in mailbox name";
            return false;
        }
        if (c == sep) {
            *why = std::string("mailbox name contains the namespace separator '") + sep + "'";
            return false;
        }
    }
    const size_t start = out->size();
    out->append(dirName);
    if (sep != '/')
        for (size_t i = start; i < out->size(); ++i)
            if ((*out)[i] == '/') (*out)[i] = sep;
    if (inboxFirstLevel(dirName, '/')) out->replace(start, kInbox.size(), kInbox);
    return true;
}

std::string describe(std::string_view name, std::string_view dn) {
    return "remote mailbox " + quoteForLog(name) + " (" + quoteForLog(dn) + ")";
}

uint32_t checkedOffset(size_t size) {
    if (size > UINT32_MAX) throw std::length_error("remote mailbox table larger than 4 GiB");
    return static_cast<uint32_t>(size);
}

}  // namespace

// ---- build ----------------------------------------------------------------

RemoteMailboxTable RemoteMailboxTable::build(const std::vector<RemoteMailbox>& mailboxes,
                                             char separator,
                                             const std::vector<std::string>& localNames,
                                             const std::vector<std::string>& allowedHosts,
                                             std::vector<std::string>* warnings, EntryDns dns) {
    Builder builder(separator, localNames, allowedHosts, warnings, dns);
    builder.reserve(mailboxes.size());
    for (const RemoteMailbox& m : mailboxes) builder.add(viewOf(m));
    return builder.finish();
}

RemoteMailboxTable::Builder::Builder(char separator, const std::vector<std::string>& localNames,
                                     const std::vector<std::string>& allowedHosts,
                                     std::vector<std::string>* warnings, EntryDns dns)
    : separator_(separator), dns_(dns), warnings_(warnings), verdicts_(localNames, allowedHosts) {}

void RemoteMailboxTable::Builder::reserve(size_t entries) {
    candidates_.reserve(entries);
    pending_.reserve(entries);
    // The vname and DN of a typical entry (tests/perf's: 19 and ~60 octets).
    scratch_.reserve(std::min<size_t>(entries, 1u << 20) * 96);
}

void RemoteMailboxTable::Builder::warn(std::string text) {
    if (warnings_ != nullptr) warnings_->push_back(std::move(text));
}

uint32_t RemoteMailboxTable::Builder::keepText(std::string_view s) {
    const uint32_t offset = checkedOffset(scratch_.size());
    scratch_.append(s);
    checkedOffset(scratch_.size());
    return offset;
}

uint32_t RemoteMailboxTable::Builder::serverOf(const ImapUrlParts& loc) {
    // Most answers name one or a few servers: a location usually repeats
    // the previous one's and needs no key or probe.
    if (lastServer_ != UINT32_MAX) {
        const PendingServer& last = servers_[lastServer_];
        if (loc.port == last.port && loc.host == last.host && loc.user == last.user &&
            loc.auth == last.auth)
            return lastServer_;
    }
    std::string key = loc.host;
    key.push_back('\0');
    key.append(std::to_string(loc.port)).push_back('\0');
    key.append(loc.user).push_back('\0');
    key.append(loc.auth);
    auto [it, added] = serverIds_.emplace(std::move(key), 0);
    if (added) {
        it->second = checkedOffset(servers_.size());
        servers_.push_back(PendingServer{loc.host, loc.user, loc.auth, loc.port});
    }
    lastServer_ = it->second;
    return lastServer_;
}

// Pass 1, per entry: its vname and usable locations, or the warning why it
// is skipped.
void RemoteMailboxTable::Builder::add(const RemoteMailboxView& m) {
    const uint32_t input = checkedOffset(inputs_);
    ++inputs_;
    std::string why;
    const size_t nameStart = scratch_.size();
    if (!appendVname(m.name, separator_, &scratch_, &why)) {
        warn(describe(m.name, m.dn) + " skipped: " + why);
        return;
    }
    const size_t nameLength = scratch_.size() - nameStart;
    const size_t firstUsable = pending_.size();
    for (size_t li = 0; li < m.locationCount; ++li) {
        const ImapUrlParts& loc = m.locations[li];
        const TargetVerdicts::Verdict verdict = verdicts_.of(loc);
        if (verdict != TargetVerdicts::Verdict::Usable) {
            // Never referred: this server serves the name itself (R2193-3),
            // a host outside allowed_hosts is no target (§2.6 item 3).
            warn(describe(m.name, m.dn) + ": " + targetVerdictText(loc, verdict));
            continue;
        }
        if (loc.mailbox && loc.mailbox->size() > UINT16_MAX) {
            warn(describe(m.name, m.dn) + ": location " + quoteForLog(loc.host) +
                 " skipped: mailbox name too long");
            continue;
        }
        PendingLocation l{serverOf(loc), 0, 0, 0, 0};
        if (loc.mailbox) {
            if (*loc.mailbox == m.name) {
                l.flags |= kMailboxIsDirectoryName;
            } else {
                l.mailboxLength = checkedOffset(loc.mailbox->size());
                l.mailboxOffset = keepText(*loc.mailbox);
                l.flags |= kHasMailbox;
            }
        }
        if (loc.uidValidity) {
            l.uidValidity = *loc.uidValidity;
            l.flags |= kHasUidValidity;
        }
        pending_.push_back(l);
    }
    if (pending_.size() == firstUsable) {
        warn(describe(m.name, m.dn) + " skipped: no usable location, the name stays local");
        scratch_.resize(nameStart);
        return;
    }
    Candidate c;
    c.input = input;
    c.nameOffset = checkedOffset(nameStart);
    c.nameLength = checkedOffset(nameLength);
    // The directory name is kept only when the vname does not spell it
    // (another separator, INBOX re-cased).
    c.dirLength = checkedOffset(m.name.size());
    c.dirOffset = scratchText(c.nameOffset, c.nameLength) == m.name ? c.nameOffset
                                                                     : keepText(m.name);
    c.dnLength = checkedOffset(m.dn.size());
    c.dnOffset = keepText(m.dn);
    c.firstLocation = checkedOffset(firstUsable);
    c.locationCount = checkedOffset(pending_.size() - firstUsable);
    c.personal = m.personal;
    candidates_.push_back(c);
}

RemoteMailboxTable RemoteMailboxTable::Builder::finish() {
    RemoteMailboxTable table;
    table.separator_ = separator_;

    // Name order; within one name the preferred entry first: personal, then
    // the smallest DN (then input order, so equal entries sort stably).
    auto nameOf = [this](const Candidate& c) { return scratchText(c.nameOffset, c.nameLength); };
    auto before = [&](const Candidate& x, const Candidate& y) {
        int c = nameOf(x).compare(nameOf(y));
        if (c != 0) return c < 0;
        if (x.personal != y.personal) return x.personal;
        int d = scratchText(x.dnOffset, x.dnLength).compare(scratchText(y.dnOffset, y.dnLength));
        if (d != 0) return d < 0;
        return x.input < y.input;
    };
    // The order is total (input order breaks the last ties), so input that
    // is already in it stays as it is: a directory often returns entries in
    // the order they were added, i.e. sorted, and a sort of 1,000 names
    // with long common prefixes was a tenth of the build (issue 13 item 4).
    if (!std::is_sorted(candidates_.begin(), candidates_.end(), before))
        std::sort(candidates_.begin(), candidates_.end(), before);

    // Pass 2: the kept entries into the arena and records.
    std::vector<const Candidate*> kept;
    kept.reserve(candidates_.size());
    size_t arenaBytes = 0, locationCount = 0;
    for (const Candidate& c : candidates_) {
        if (!kept.empty() && nameOf(*kept.back()) == nameOf(c)) {
            warn("remote mailbox " + quoteForLog(scratchText(c.dirOffset, c.dirLength)) + " (" +
                 quoteForLog(scratchText(c.dnOffset, c.dnLength)) +
                 ") skipped: duplicate name, " +
                 quoteForLog(scratchText(kept.back()->dnOffset, kept.back()->dnLength)) +
                 " is preferred");
            continue;
        }
        kept.push_back(&c);
        arenaBytes += c.nameLength;
        if (dns_ == EntryDns::Kept) arenaBytes += c.dnLength;
        locationCount += c.locationCount;
    }
    table.arena_.reserve(arenaBytes);
    table.records_.reserve(kept.size());
    table.locations_.reserve(locationCount);
    if (dns_ == EntryDns::Kept) table.dns_.reserve(kept.size());
    auto store = [&table](std::string_view s) {
        Text t{checkedOffset(table.arena_.size()), checkedOffset(s.size())};
        table.arena_.append(s);
        checkedOffset(table.arena_.size());
        return t;
    };
    // A server goes into the table when a kept location first names it.
    std::vector<uint32_t> serverIds(servers_.size(), UINT32_MAX);
    for (const Candidate* c : kept) {
        const uint32_t record = checkedOffset(table.records_.size());
        const std::string_view vname = nameOf(*c);
        const std::string_view dirName = scratchText(c->dirOffset, c->dirLength);
        Record r{checkedOffset(table.arena_.size()), checkedOffset(table.locations_.size()),
                 static_cast<uint16_t>(vname.size()), 0};
        table.arena_.append(vname);
        if (c->personal) r.flags |= kPersonal;
        if (vname.compare(0, kInbox.size(), dirName, 0, kInbox.size()) != 0 &&
            inboxFirstLevel(dirName, '/')) {
            // "inbox/x" is stored as "INBOX/x"; the URL keeps the directory's spelling.
            r.flags |= kStoredDirectoryName;
            table.directoryNames_.push_back(DirectoryName{record, store(dirName)});
        }
        if (dns_ == EntryDns::Kept) table.dns_.push_back(store(scratchText(c->dnOffset, c->dnLength)));
        table.maxNameLength_ = std::max<uint32_t>(table.maxNameLength_, r.nameLength);
        table.records_.push_back(r);
        for (uint32_t u = c->firstLocation; u < c->firstLocation + c->locationCount; ++u) {
            const PendingLocation& p = pending_[u];
            uint32_t& server = serverIds[p.server];
            if (server == UINT32_MAX) {
                server = checkedOffset(table.servers_.size());
                const PendingServer& ps = servers_[p.server];
                Server sv;
                sv.host = store(ps.host);
                sv.user = store(ps.user);
                sv.auth = store(ps.auth);
                sv.port = ps.port;
                table.servers_.push_back(sv);
            }
            Location l{server, 0, p.uidValidity, 0, p.flags};
            if (p.flags & kHasMailbox) {
                Text t = store(scratchText(p.mailboxOffset, p.mailboxLength));
                l.mailboxOffset = t.offset;
                l.mailboxLength = static_cast<uint16_t>(t.length);
            }
            table.locations_.push_back(l);
        }
    }
    table.arena_.shrink_to_fit();
    table.servers_.shrink_to_fit();
    table.directoryNames_.shrink_to_fit();
    table.buildIndex();
    return table;
}

void RemoteMailboxTable::buildIndex() {
    index_.clear();
    if (records_.empty()) {
        index_.shrink_to_fit();
        return;
    }
    size_t slots = 8;
    while (slots < records_.size() * 2) slots *= 2;
    index_.assign(slots, Slot{0, 0});
    const size_t mask = slots - 1;
    for (uint32_t i = 0; i < records_.size(); ++i) {
        const uint32_t h = hashName(nameOf(i));
        size_t s = h & mask;
        while (index_[s].record != 0) s = (s + 1) & mask;
        index_[s] = Slot{h, i + 1};
    }
}

RemoteMailboxTable::RemoteMailboxTable(RemoteMailboxTable&& other) noexcept
    : arena_(std::move(other.arena_)),
      records_(std::move(other.records_)),
      locations_(std::move(other.locations_)),
      servers_(std::move(other.servers_)),
      directoryNames_(std::move(other.directoryNames_)),
      dns_(std::move(other.dns_)),
      index_(std::move(other.index_)),
      maxNameLength_(other.maxNameLength_),
      separator_(other.separator_),
      probes_(other.probes_) {
    other.records_.clear();
    other.index_.clear();
    other.maxNameLength_ = 0;
}

RemoteMailboxTable& RemoteMailboxTable::operator=(RemoteMailboxTable&& other) noexcept {
    if (this != &other) {
        arena_ = std::move(other.arena_);
        records_ = std::move(other.records_);
        locations_ = std::move(other.locations_);
        servers_ = std::move(other.servers_);
        directoryNames_ = std::move(other.directoryNames_);
        dns_ = std::move(other.dns_);
        index_ = std::move(other.index_);
        maxNameLength_ = other.maxNameLength_;
        separator_ = other.separator_;
        probes_ = other.probes_;
        other.records_.clear();
        other.index_.clear();
        other.maxNameLength_ = 0;
    }
    return *this;
}

size_t RemoteMailboxTable::memoryBytes() const {
    // A string's inline buffer is part of the object; a heap buffer also
    // holds the terminating NUL.
    const size_t arenaHeap =
        arena_.capacity() > std::string().capacity() ? arena_.capacity() + 1 : 0;
    return sizeof(*this) + arenaHeap + records_.capacity() * sizeof(Record) +
           locations_.capacity() * sizeof(Location) + servers_.capacity() * sizeof(Server) +
           directoryNames_.capacity() * sizeof(DirectoryName) + dns_.capacity() * sizeof(Text) +
           index_.capacity() * sizeof(Slot);
}

// ---- lookups --------------------------------------------------------------

int32_t RemoteMailboxTable::lookup(std::string_view name, uint32_t hash) const {
    ++probes_;
    const size_t mask = index_.size() - 1;
    for (size_t s = hash & mask; index_[s].record != 0; s = (s + 1) & mask) {
        if (index_[s].hash != hash) continue;
        const uint32_t r = index_[s].record - 1;
        if (nameOf(r) == name) return static_cast<int32_t>(r);
    }
    return -1;
}

std::optional<RemoteMailboxMatch> RemoteMailboxTable::find(std::string_view vname) const {
    if (records_.empty() || vname.empty()) return std::nullopt;
    // Keys hold INBOX upper-cased; only another spelling of it needs a copy.
    std::string folded;
    std::string_view k = vname;
    if (inboxFirstLevel(vname, separator_) && vname.compare(0, kInbox.size(), kInbox) != 0) {
        folded = normalizeInboxPrefix(vname, separator_);
        k = folded;
    }
    // One pass gives the hash of every ancestor (the hash is byte-serial);
    // names longer than the longest entry are never looked up.
    constexpr size_t kInline = 32;
    size_t endsInline[kInline];
    uint64_t statesInline[kInline];
    std::vector<size_t> endsMore;
    std::vector<uint64_t> statesMore;
    size_t levels = 0;
    uint64_t h = kHashSeed;
    const size_t hashed = std::min<size_t>(k.size(), maxNameLength_ + size_t{1});
    for (size_t i = 0; i < hashed; ++i) {
        if (i > 0 && k[i] == separator_) {
            if (levels < kInline) {
                endsInline[levels] = i;
                statesInline[levels] = h;
            } else {
                endsMore.push_back(i);
                statesMore.push_back(h);
            }
            ++levels;
        }
        h = hashStep(h, k[i]);
    }
    auto matchAt = [&](int32_t record, size_t end) {
        RemoteMailboxMatch match;
        match.entry = RemoteMailboxEntry(this, static_cast<uint32_t>(record));
        match.separator = separator_;
        if (end < k.size()) match.inferior = std::string(k.substr(end + 1));
        return match;
    };
    // Longest covering entry first: the name itself, then each ancestor.
    if (k.size() <= maxNameLength_) {
        int32_t r = lookup(k, hashFinish(h));
        if (r >= 0) return matchAt(r, k.size());
    }
    for (size_t level = levels; level-- > 0;) {
        const size_t end = level < kInline ? endsInline[level] : endsMore[level - kInline];
        const uint64_t state = level < kInline ? statesInline[level] : statesMore[level - kInline];
        if (end > maxNameLength_) continue;
        int32_t r = lookup(k.substr(0, end), hashFinish(state));
        if (r >= 0) return matchAt(r, end);
    }
    return std::nullopt;
}

size_t RemoteMailboxTable::lowerBound(std::string_view name) const {
    size_t lo = 0, hi = records_.size();
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (nameOf(static_cast<uint32_t>(mid)) < name)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool RemoteMailboxTable::hasRemoteInferiors(std::string_view vname) const {
    std::string prefix = normalizeInboxPrefix(vname, separator_);
    prefix.push_back(separator_);
    size_t i = lowerBound(prefix);
    return i < records_.size() &&
           nameOf(static_cast<uint32_t>(i)).compare(0, prefix.size(), prefix) == 0;
}

void RemoteMailboxTable::forEachMatch(
    const ListPattern& pattern,
    const std::function<void(const RemoteMailboxEntry&)>& visit) const {
    size_t begin = 0, end = records_.size();
    const std::string& prefix = pattern.literalPrefix();
    if (!pattern.prefixMayMatchInboxCase() && !prefix.empty()) {
        begin = lowerBound(prefix);
        end = begin;
        while (end < records_.size() &&
               nameOf(static_cast<uint32_t>(end)).compare(0, prefix.size(), prefix) == 0)
            ++end;
    }
    for (size_t i = begin; i < end; ++i) {
        const auto record = static_cast<uint32_t>(i);
        if (pattern.matches(nameOf(record))) visit(RemoteMailboxEntry(this, record));
    }
}

}  // namespace dref
