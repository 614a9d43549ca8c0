// The cached form of a user's answer (see user_answer_blob.h).
//
// Layout, integers in this process's byte order:
//   u8 format (1), u8 status, u8 flags, u8 policy, u16 home port,
//   u32 matching entries, then seven strings (u32 length, octets): error,
//   DN, home host, home error, referral user, password, password error;
//   then u32 warning count and the warnings as strings.
#include "user_answer_blob.h"

#include <cstdint>
#include <cstring>
#include <optional>

#include "process_secrets.h"

namespace dref {
namespace {

constexpr uint8_t kFormat = 1;
constexpr uint8_t kHasHome = 1;
constexpr uint8_t kHasPolicy = 2;
constexpr uint8_t kHasPassword = 4;
constexpr uint8_t kMoreEntriesMatch = 8;
constexpr uint8_t kKnownFlags = kHasHome | kHasPolicy | kHasPassword | kMoreEntriesMatch;
constexpr size_t kHeaderSize = 4 + sizeof(uint16_t) + sizeof(uint32_t);

template <class T>
void put(std::pmr::string* out, T v) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    out->append(bytes, sizeof(T));
}

void putText(std::pmr::string* out, std::string_view s) {
    put<uint32_t>(out, static_cast<uint32_t>(s.size()));
    out->append(s.data(), s.size());
}

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}

    template <class T>
    bool get(T* v) {
        if (in_.size() - pos_ < sizeof(T)) return false;
        std::memcpy(v, in_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return true;
    }

    bool text(std::string_view* s) {
        uint32_t n = 0;
        if (!get(&n) || in_.size() - pos_ < n) return false;
        *s = in_.substr(pos_, n);
        pos_ += n;
        return true;
    }

    bool atEnd() const { return pos_ == in_.size(); }

private:
    std::string_view in_;
    size_t pos_ = 0;
};

// The password's old octets are overwritten before the string is reused or
// dropped: a decoded answer is kept from one login to the next.
void assignPassword(std::optional<std::string>* to, bool present, std::string_view value) {
    if (*to) overwriteString(&**to);
    if (!present) {
        to->reset();
        return;
    }
    if (!*to) to->emplace();
    (*to)->assign(value.data(), value.size());
}

}  // namespace

void encodeUserAnswer(const UserLookupResult& answer, std::pmr::string* blob) {
    const UserRecord& r = answer.record;
    size_t size = kHeaderSize + 7 * sizeof(uint32_t) + sizeof(uint32_t) + answer.error.size() +
                  r.dn.size() + (r.home ? r.home->host.size() : 0) + r.homeError.size() +
                  r.referralUser.size() + (r.password ? r.password->size() : 0) +
                  r.passwordError.size();
    for (const std::string& w : answer.warnings) size += sizeof(uint32_t) + w.size();
    blob->clear();
    blob->reserve(size);
    uint8_t flags = 0;
    if (r.home) flags |= kHasHome;
    if (r.policy) flags |= kHasPolicy;
    if (r.password) flags |= kHasPassword;
    if (r.moreEntriesMatch) flags |= kMoreEntriesMatch;
    put<uint8_t>(blob, kFormat);
    put<uint8_t>(blob, static_cast<uint8_t>(answer.status));
    put<uint8_t>(blob, flags);
    put<uint8_t>(blob, static_cast<uint8_t>(r.policy ? *r.policy : ReferralPolicy::Refer));
    put<uint16_t>(blob, r.home ? r.home->port : 0);
    put<uint32_t>(blob, r.matchingEntries);
    putText(blob, answer.error);
    putText(blob, r.dn);
    putText(blob, r.home ? std::string_view(r.home->host) : std::string_view());
    putText(blob, r.homeError);
    putText(blob, r.referralUser);
    putText(blob, r.password ? std::string_view(*r.password) : std::string_view());
    putText(blob, r.passwordError);
    put<uint32_t>(blob, static_cast<uint32_t>(answer.warnings.size()));
    for (const std::string& w : answer.warnings) putText(blob, w);
}

bool decodeUserAnswer(std::string_view blob, UserLookupResult* answer) {
    Reader in(blob);
    uint8_t format = 0, status = 0, flags = 0, policy = 0;
    uint16_t port = 0;
    uint32_t matching = 0;
    if (!in.get(&format) || format != kFormat || !in.get(&status) ||
        status > static_cast<uint8_t>(DirectoryStatus::Unavailable) || !in.get(&flags) ||
        (flags & ~kKnownFlags) != 0 || !in.get(&policy) ||
        policy > static_cast<uint8_t>(ReferralPolicy::Local) || !in.get(&port) || !in.get(&matching))
        return false;
    std::string_view error, dn, host, homeError, referralUser, password, passwordError;
    uint32_t warnings = 0;
    if (!in.text(&error) || !in.text(&dn) || !in.text(&host) || !in.text(&homeError) ||
        !in.text(&referralUser) || !in.text(&password) || !in.text(&passwordError) ||
        !in.get(&warnings))
        return false;
    UserLookupResult& a = *answer;
    UserRecord& r = a.record;
    a.status = static_cast<DirectoryStatus>(status);
    a.error.assign(error.data(), error.size());
    r.dn.assign(dn.data(), dn.size());
    if (flags & kHasHome) {
        if (!r.home) r.home.emplace();
        r.home->host.assign(host.data(), host.size());
        r.home->port = port;
    } else {
        r.home.reset();
    }
    r.homeError.assign(homeError.data(), homeError.size());
    if (flags & kHasPolicy)
        r.policy = static_cast<ReferralPolicy>(policy);
    else
        r.policy.reset();
    r.referralUser.assign(referralUser.data(), referralUser.size());
    assignPassword(&r.password, (flags & kHasPassword) != 0, password);
    r.passwordError.assign(passwordError.data(), passwordError.size());
    r.matchingEntries = matching;
    r.moreEntriesMatch = (flags & kMoreEntriesMatch) != 0;
    // Each warning takes at least its length's four octets: a count larger
    // than what is left cannot be right (and must not reserve memory).
    if (warnings > blob.size() / sizeof(uint32_t)) return false;
    a.warnings.resize(warnings);
    for (std::string& w : a.warnings) {
        std::string_view text;
        if (!in.text(&text)) return false;
        w.assign(text.data(), text.size());
    }
    if (!in.atEnd()) return false;
    a.fromCache = true;
    a.stale = false;
    a.elapsedUs = 0;
    return true;
}

}  // namespace dref
