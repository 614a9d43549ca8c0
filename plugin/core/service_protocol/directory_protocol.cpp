#include "directory_protocol.h"

#include <algorithm>
#include <vector>

#include "line_fields.h"

namespace dref {
namespace {

constexpr std::string_view kVersionWord = "VERSION";
constexpr std::string_view kLookupWord = "LOOKUP";
constexpr std::string_view kPrefetchWord = "PREFETCH";
constexpr std::string_view kAnswerWord = "ANSWER";

bool printableAscii(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) return false;
    }
    return true;
}

// Exactly n fields separated by single spaces, none empty.
bool split(std::string_view line, size_t n, std::vector<std::string_view>* out) {
    out->clear();
    while (out->size() < n) {
        const size_t sp = line.find(' ');
        out->push_back(line.substr(0, sp));
        if (out->back().empty()) return false;
        if (sp == std::string_view::npos) return out->size() == n;
        line.remove_prefix(sp + 1);
    }
    return false;  // more fields than n
}

bool parseStatus(std::string_view word, ServiceAnswerStatus* out) {
    if (word == "found") *out = ServiceAnswerStatus::Found;
    else if (word == "not-found") *out = ServiceAnswerStatus::NotFound;
    else if (word == "unavailable") *out = ServiceAnswerStatus::Unavailable;
    else return false;
    return true;
}

constexpr uint64_t kMaxId = (uint64_t(1) << 63) - 1;

}  // namespace

const char* serviceAnswerStatusName(ServiceAnswerStatus status) {
    switch (status) {
    case ServiceAnswerStatus::Found: return "found";
    case ServiceAnswerStatus::NotFound: return "not-found";
    case ServiceAnswerStatus::Unavailable: return "unavailable";
    }
    return "unavailable";
}

std::string encodeVersionLine(std::string_view identity) {
    return std::string(kVersionWord) + " " + std::to_string(kDirectoryProtocolVersion) + " " +
           std::string(identity) + "\n";
}

std::string encodeLookupLine(uint64_t id, std::string_view user) {
    return std::string(kLookupWord) + " " + std::to_string(id) + " " + pctEncode(user) + "\n";
}

std::string encodePrefetchLine(std::string_view user) {
    return std::string(kPrefetchWord) + " " + pctEncode(user) + "\n";
}

std::string encodeAnswer(uint64_t id, ServiceAnswerStatus status, int64_t ageMs,
                         std::string_view payload) {
    std::string reason;
    if (status == ServiceAnswerStatus::Unavailable) {
        reason.assign(payload.substr(0, kDirectoryProtocolMaxReasonBytes));
        for (char& c : reason) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u >= 0x7f) c = '?';
        }
        payload = reason;
    }
    std::string out = encodeAnswerLine(id, status, ageMs, payload.size());
    out.append(payload);
    return out;
}

std::string encodeAnswerLine(uint64_t id, ServiceAnswerStatus status, int64_t ageMs,
                             size_t payloadBytes) {
    if (ageMs < 0) ageMs = 0;
    if (ageMs > kDirectoryProtocolMaxAgeMs) ageMs = kDirectoryProtocolMaxAgeMs;
    return std::string(kAnswerWord) + " " + std::to_string(id) + " " +
           serviceAnswerStatusName(status) + " " + std::to_string(ageMs) + " " +
           std::to_string(payloadBytes) + "\n";
}

ProtocolReader::ProtocolReader(Peer peer, size_t maxPayloadBytes)
    : peer_(peer), maxPayload_(maxPayloadBytes) {}

bool ProtocolReader::fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    // The messages completed before the error stay for next(): a peer's
    // answers that arrived whole are delivered before the stream ends.
    buffer_.clear();
    buffer_.shrink_to_fit();
    inPayload_ = false;
    pending_ = ProtocolMessage();
    return false;
}

void ProtocolReader::queue(ProtocolMessage&& m, size_t wireBytes) {
    ready_.push_back(ReadyMessage{std::move(m), wireBytes});
    readyBytes_ += wireBytes;
}

bool ProtocolReader::feed(std::string_view bytes) {
    if (failed()) return false;
    while (!bytes.empty()) {
        if (inPayload_) {
            // The announced payload's octets go to the payload itself (its
            // room was reserved when the ANSWER line was read).
            const size_t take = std::min(bytes.size(), payloadBytes_ - pending_.payload.size());
            pending_.payload.append(bytes.data(), take);
            bytes.remove_prefix(take);
            if (pending_.payload.size() == payloadBytes_ && !finishPayload()) return false;
            continue;
        }
        // A line may be at most kDirectoryProtocolMaxLineBytes long without
        // its LF: look no further than that for the LF.
        const size_t room = kDirectoryProtocolMaxLineBytes - buffer_.size();
        const size_t nl = bytes.substr(0, room + 1).find('\n');
        if (nl == std::string_view::npos) {
            if (bytes.size() > room)
                return fail("line longer than " +
                            std::to_string(kDirectoryProtocolMaxLineBytes) + " bytes");
            buffer_.append(bytes.data(), bytes.size());
            return true;
        }
        bool ok;
        if (buffer_.empty()) {
            ok = takeLine(bytes.substr(0, nl));
        } else {
            buffer_.append(bytes.data(), nl);
            ok = takeLine(buffer_);
            buffer_.clear();
        }
        if (!ok) return false;
        bytes.remove_prefix(nl + 1);
    }
    return true;
}

bool ProtocolReader::takeLine(std::string_view line) {
    ProtocolMessage m;
    if (!parseLine(line, &m)) return false;
    if (!inPayload_) {
        queue(std::move(m), line.size() + 1);
        return true;
    }
    // An ANSWER: its payload follows (an empty one is complete already).
    if (payloadBytes_ == 0) return finishPayload();
    return true;
}

bool ProtocolReader::finishPayload() {
    inPayload_ = false;
    if (pending_.status == ServiceAnswerStatus::Unavailable && !printableAscii(pending_.payload))
        return fail("ANSWER " + std::to_string(pending_.id) +
                    ": the reason is not printable ASCII");
    queue(std::move(pending_), payloadBytes_);
    pending_ = ProtocolMessage();
    return true;
}

bool ProtocolReader::next(ProtocolMessage* out) {
    if (ready_.empty()) return false;
    *out = std::move(ready_.front().message);
    readyBytes_ -= ready_.front().wireBytes;
    ready_.pop_front();
    return true;
}

bool ProtocolReader::parseLine(std::string_view line, ProtocolMessage* out) {
    if (!printableAscii(line)) return fail("a line holds octets outside printable ASCII");
    const std::string_view word = line.substr(0, line.find(' '));
    std::vector<std::string_view> f;
    if (!sawVersion_) {
        if (word != kVersionWord) return fail("expected VERSION first");
        if (!split(line, 3, &f)) return fail("malformed VERSION line");
        uint64_t version = 0;
        if (!parseDecimal(f[1], 1000, &version)) return fail("malformed VERSION line");
        if (version != static_cast<uint64_t>(kDirectoryProtocolVersion))
            return fail("unsupported protocol version " + std::to_string(version) + " (this is " +
                        std::to_string(kDirectoryProtocolVersion) + ")");
        if (!isLowerHex16(f[2])) return fail("malformed identity in VERSION");
        sawVersion_ = true;
        *out = ProtocolMessage();
        out->kind = ProtocolMessage::Kind::Version;
        out->identity.assign(f[2]);
        return true;
    }
    if (peer_ == Peer::Client && word == kPrefetchWord) {
        if (!split(line, 2, &f)) return fail("malformed PREFETCH line");
        ProtocolMessage m;
        m.kind = ProtocolMessage::Kind::Prefetch;
        if (!pctDecode(f[1], kDirectoryProtocolMaxUserBytes, &m.user) || m.user.empty() ||
            m.user.find('\0') != std::string::npos)
            return fail("malformed PREFETCH user");
        *out = std::move(m);
        return true;
    }
    if (peer_ == Peer::Client) {
        if (word != kLookupWord) return fail("expected LOOKUP or PREFETCH");
        if (!split(line, 3, &f)) return fail("malformed LOOKUP line");
        ProtocolMessage m;
        m.kind = ProtocolMessage::Kind::Lookup;
        if (!parseDecimal(f[1], kMaxId, &m.id) || m.id == 0)
            return fail("malformed LOOKUP id");
        if (!pctDecode(f[2], kDirectoryProtocolMaxUserBytes, &m.user) || m.user.empty() ||
            m.user.find('\0') != std::string::npos)
            return fail("malformed LOOKUP user");
        *out = std::move(m);
        return true;
    }
    if (word != kAnswerWord) return fail("expected ANSWER");
    if (!split(line, 5, &f)) return fail("malformed ANSWER line");
    ProtocolMessage m;
    m.kind = ProtocolMessage::Kind::Answer;
    uint64_t age = 0, size = 0;
    if (!parseDecimal(f[1], kMaxId, &m.id) || m.id == 0) return fail("malformed ANSWER id");
    if (!parseStatus(f[2], &m.status)) return fail("unknown ANSWER status");
    if (!parseDecimal(f[3], static_cast<uint64_t>(kDirectoryProtocolMaxAgeMs), &age))
        return fail("malformed ANSWER age");
    const size_t max = m.status == ServiceAnswerStatus::Unavailable
                           ? kDirectoryProtocolMaxReasonBytes
                           : maxPayload_;
    if (!parseDecimal(f[4], UINT64_MAX, &size) || size > max)
        return fail("ANSWER payload size " + std::string(f[4].substr(0, 24)) +
                    " over the limit of " + std::to_string(max));
    m.ageMs = static_cast<int64_t>(age);
    pending_ = std::move(m);
    payloadBytes_ = static_cast<size_t>(size);
    inPayload_ = true;
    // Room for the whole payload at once (at most the limit checked above):
    // a 160 kB answer read in 16 kB pieces would otherwise grow, and copy,
    // its string again and again.  Its octets arrive through feed().
    pending_.payload.reserve(payloadBytes_);
    return true;
}

}  // namespace dref
