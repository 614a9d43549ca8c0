// The referral-directory protocol (plugin/core/service_protocol/directory_protocol.h): what
// the encoders write the reader reads back, in any split of the byte
// stream; anything else (hostile or broken peers) ends the stream with a
// reason, never with a message built from unchecked bytes.
#include "directory_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dref {
namespace {

const std::string kIdentity = "0123456789abcdef";

std::vector<ProtocolMessage> readAll(ProtocolReader& r, const std::string& bytes,
                                     size_t chunk = 0) {
    std::vector<ProtocolMessage> out;
    ProtocolMessage m;
    if (chunk == 0) chunk = bytes.size() == 0 ? 1 : bytes.size();
    for (size_t i = 0; i < bytes.size(); i += chunk) {
        EXPECT_TRUE(r.feed(std::string_view(bytes).substr(i, chunk)) || r.failed());
        while (r.next(&m)) out.push_back(m);
    }
    return out;
}

TEST(DirectoryProtocol, ClientStreamRoundTripsInEverySplit) {
    const std::string user = "j\xc3\xb6rg with space%and\x01control";
    const std::string stream = encodeVersionLine(kIdentity) + encodeLookupLine(7, user) +
                               encodeLookupLine(8, "carol");
    for (size_t chunk : {size_t(1), size_t(2), size_t(5), stream.size()}) {
        ProtocolReader r(ProtocolReader::Peer::Client, 0);
        auto msgs = readAll(r, stream, chunk);
        ASSERT_FALSE(r.failed()) << r.error();
        ASSERT_EQ(msgs.size(), 3u) << chunk;
        EXPECT_EQ(msgs[0].kind, ProtocolMessage::Kind::Version);
        EXPECT_EQ(msgs[0].identity, kIdentity);
        EXPECT_EQ(msgs[1].kind, ProtocolMessage::Kind::Lookup);
        EXPECT_EQ(msgs[1].id, 7u);
        EXPECT_EQ(msgs[1].user, user);
        EXPECT_EQ(msgs[2].user, "carol");
        EXPECT_EQ(r.buffered(), 0u);
    }
}

TEST(DirectoryProtocol, PrefetchRoundTripsBetweenLookups) {
    const std::string user = "j\xc3\xb6rg with space%and\x01control";
    const std::string stream = encodeVersionLine(kIdentity) + encodePrefetchLine(user) +
                               encodeLookupLine(3, user);
    EXPECT_EQ(encodePrefetchLine("a b\n"), "PREFETCH a%20b%0A\n");
    for (size_t chunk : {size_t(1), size_t(3), stream.size()}) {
        ProtocolReader r(ProtocolReader::Peer::Client, 0);
        auto msgs = readAll(r, stream, chunk);
        ASSERT_FALSE(r.failed()) << r.error();
        ASSERT_EQ(msgs.size(), 3u) << chunk;
        EXPECT_EQ(msgs[1].kind, ProtocolMessage::Kind::Prefetch);
        EXPECT_EQ(msgs[1].user, user);
        EXPECT_EQ(msgs[1].id, 0u);
        EXPECT_EQ(msgs[2].kind, ProtocolMessage::Kind::Lookup);
    }
}

TEST(DirectoryProtocol, LookupLineIsOnePrintableLine) {
    const std::string line = encodeLookupLine(1, "a\nb\rc d\x80");
    ASSERT_EQ(line.back(), '\n');
    for (size_t i = 0; i + 1 < line.size(); ++i) {
        const auto u = static_cast<unsigned char>(line[i]);
        EXPECT_TRUE(u >= 0x20 && u < 0x7f) << i;
    }
    EXPECT_EQ(line, "LOOKUP 1 a%0Ab%0Dc%20d%80\n");
}

TEST(DirectoryProtocol, ServiceStreamCarriesPayloadsVerbatim) {
    const std::string payload = "dovecot-referral-mailbox-cache 1\nanything\n\x01\xff binary";
    const std::string stream = encodeVersionLine(kIdentity) +
                               encodeAnswer(3, ServiceAnswerStatus::Found, 1500, payload) +
                               encodeAnswer(2, ServiceAnswerStatus::NotFound, 0, "") +
                               encodeAnswer(9, ServiceAnswerStatus::Unavailable, 0,
                                            "timeout\r\n* BYE injected");
    for (size_t chunk : {size_t(1), size_t(3), stream.size()}) {
        ProtocolReader r(ProtocolReader::Peer::Service, 1 << 20);
        auto msgs = readAll(r, stream, chunk);
        ASSERT_FALSE(r.failed()) << r.error();
        ASSERT_EQ(msgs.size(), 4u);
        EXPECT_EQ(msgs[1].id, 3u);
        EXPECT_EQ(msgs[1].status, ServiceAnswerStatus::Found);
        EXPECT_EQ(msgs[1].ageMs, 1500);
        EXPECT_EQ(msgs[1].payload, payload);
        EXPECT_EQ(msgs[2].status, ServiceAnswerStatus::NotFound);
        EXPECT_EQ(msgs[2].payload, "");
        EXPECT_EQ(msgs[3].status, ServiceAnswerStatus::Unavailable);
        // The encoder never writes a reason the reader would refuse.
        EXPECT_EQ(msgs[3].payload, "timeout??* BYE injected");
    }
}

// The service writes large payloads after their ANSWER line without
// copying them into one message: the line and the payload are exactly
// encodeAnswer's bytes for found and not-found answers.
TEST(DirectoryProtocol, AnswerLineThenPayloadIsEncodeAnswer) {
    const std::string payload(170000, 'x');
    EXPECT_EQ(encodeAnswerLine(7, ServiceAnswerStatus::Found, 1500, payload.size()) + payload,
              encodeAnswer(7, ServiceAnswerStatus::Found, 1500, payload));
    EXPECT_EQ(encodeAnswerLine(2, ServiceAnswerStatus::NotFound, -5, 0),
              encodeAnswer(2, ServiceAnswerStatus::NotFound, -5, ""));
    EXPECT_EQ(encodeAnswerLine(2, ServiceAnswerStatus::Found, int64_t(1) << 50, 3) + "abc",
              encodeAnswer(2, ServiceAnswerStatus::Found, int64_t(1) << 50, "abc"));
}

TEST(DirectoryProtocol, OverlongReasonIsCut) {
    ProtocolReader r(ProtocolReader::Peer::Service, 1 << 20);
    auto msgs = readAll(r, encodeVersionLine(kIdentity) +
                               encodeAnswer(1, ServiceAnswerStatus::Unavailable, 0,
                                            std::string(5000, 'x')));
    ASSERT_EQ(msgs.size(), 2u) << r.error();
    EXPECT_EQ(msgs[1].payload.size(), kDirectoryProtocolMaxReasonBytes);
}

struct Hostile {
    const char* name;
    ProtocolReader::Peer peer;
    std::string bytes;
    const char* reason;  // a part of error()
};

class DirectoryProtocolHostile : public ::testing::TestWithParam<Hostile> {};

TEST_P(DirectoryProtocolHostile, StreamEndsWithAReason) {
    const Hostile& h = GetParam();
    ProtocolReader r(h.peer, 1000);
    auto msgs = readAll(r, h.bytes);
    ASSERT_TRUE(r.failed()) << h.name;
    EXPECT_NE(r.error().find(h.reason), std::string::npos) << r.error();
    // Nothing after the error: more bytes are refused.
    EXPECT_FALSE(r.feed(encodeLookupLine(1, "x")));
    ProtocolMessage m;
    EXPECT_FALSE(r.next(&m));
    // Every message returned before the error was well formed: a VERSION
    // (the hostile part comes after it), never a half-parsed LOOKUP/ANSWER.
    for (const auto& msg : msgs) EXPECT_EQ(msg.kind, ProtocolMessage::Kind::Version);
}

const std::string V = "VERSION 1 0123456789abcdef\n";
using P = ProtocolReader::Peer;

INSTANTIATE_TEST_SUITE_P(
    Cases, DirectoryProtocolHostile,
    ::testing::Values(
        Hostile{"lookup before version", P::Client, "LOOKUP 1 carol\n", "VERSION first"},
        Hostile{"other version", P::Client, "VERSION 2 0123456789abcdef\n", "version 2"},
        Hostile{"bad identity", P::Client, "VERSION 1 0123456789ABCDEF\n", "identity"},
        Hostile{"extra field", P::Client, V + "LOOKUP 1 carol x\n", "malformed LOOKUP"},
        Hostile{"empty field", P::Client, V + "LOOKUP  carol\n", "malformed LOOKUP"},
        Hostile{"id zero", P::Client, V + "LOOKUP 0 carol\n", "LOOKUP id"},
        Hostile{"id leading zero", P::Client, V + "LOOKUP 01 carol\n", "LOOKUP id"},
        Hostile{"id too large", P::Client, V + "LOOKUP 9223372036854775808 carol\n", "LOOKUP id"},
        Hostile{"id negative", P::Client, V + "LOOKUP -1 carol\n", "LOOKUP id"},
        Hostile{"bad percent", P::Client, V + "LOOKUP 1 car%4\n", "LOOKUP user"},
        Hostile{"NUL in user", P::Client, V + "LOOKUP 1 a%00b\n", "LOOKUP user"},
        Hostile{"user too long", P::Client, V + "LOOKUP 1 " + std::string(1025, 'u') + "\n",
                "LOOKUP user"},
        Hostile{"control byte", P::Client, V + "LOOKUP 1 ca\x01rol\n", "printable"},
        Hostile{"8-bit byte", P::Client, V + "LOOKUP 1 ca\xc3\xb6rol\n", "printable"},
        Hostile{"CR in line", P::Client, V + "LOOKUP 1 carol\r\n", "printable"},
        Hostile{"answer to the service", P::Client, V + "ANSWER 1 found 0 0\n", "expected LOOKUP"},
        Hostile{"prefetch before version", P::Client, "PREFETCH carol\n", "VERSION first"},
        Hostile{"prefetch with an id", P::Client, V + "PREFETCH 1 carol\n", "malformed PREFETCH"},
        Hostile{"prefetch without user", P::Client, V + "PREFETCH\n", "malformed PREFETCH"},
        Hostile{"prefetch NUL in user", P::Client, V + "PREFETCH a%00b\n", "PREFETCH user"},
        Hostile{"prefetch user too long", P::Client,
                V + "PREFETCH " + std::string(1025, 'u') + "\n", "PREFETCH user"},
        Hostile{"prefetch to the client", P::Service, V + "PREFETCH carol\n", "expected ANSWER"},
        Hostile{"endless line", P::Client, V + std::string(5000, 'L'), "line longer"},
        Hostile{"lookup to the client", P::Service, V + "LOOKUP 1 carol\n", "expected ANSWER"},
        Hostile{"unknown status", P::Service, V + "ANSWER 1 maybe 0 0\n", "status"},
        Hostile{"payload over limit", P::Service, V + "ANSWER 1 found 0 1001\n", "over the limit"},
        Hostile{"huge payload size", P::Service, V + "ANSWER 1 found 0 99999999999999999999\n",
                "over the limit"},
        Hostile{"reason over limit", P::Service, V + "ANSWER 1 unavailable 0 513\n",
                "over the limit"},
        Hostile{"reason not printable", P::Service, V + "ANSWER 1 unavailable 0 3\na\nb",
                "not printable"},
        Hostile{"bad age", P::Service, V + "ANSWER 1 found x 0\n", "age"},
        Hostile{"age too large", P::Service, V + "ANSWER 1 found 1099511627777 0\n", "age"},
        Hostile{"second version", P::Service, V + V, "expected ANSWER"}),
    [](const ::testing::TestParamInfo<Hostile>& info) {
        std::string n;
        for (char c : std::string(info.param.name)) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        return n;
    });

TEST(DirectoryProtocol, IncompletePayloadWaits) {
    ProtocolReader r(ProtocolReader::Peer::Service, 100);
    ProtocolMessage m;
    ASSERT_TRUE(r.feed(V + "ANSWER 5 found 0 10\n01234"));
    ASSERT_TRUE(r.next(&m));  // VERSION
    EXPECT_FALSE(r.next(&m));
    EXPECT_FALSE(r.failed());
    EXPECT_EQ(r.buffered(), 5u);  // the payload so far, not its ANSWER line
    ASSERT_TRUE(r.feed("56789ANSWER"));
    ASSERT_TRUE(r.next(&m));
    EXPECT_EQ(m.payload, "0123456789");
    EXPECT_FALSE(r.next(&m));  // "ANSWER" without its LF: more bytes needed
    EXPECT_FALSE(r.failed());
}

// A large payload goes into its message as it arrives, in any split of the
// stream, with the next messages of the same read behind it; buffered()
// counts its octets until the message is returned.
TEST(DirectoryProtocol, LargePayloadInPiecesThenMoreMessages) {
    std::string payload(170001, 'p');
    for (size_t i = 0; i < payload.size(); i += 997) payload[i] = static_cast<char>('a' + i % 26);
    const std::string stream = V + encodeAnswer(4, ServiceAnswerStatus::Found, 0, payload) +
                               encodeAnswer(5, ServiceAnswerStatus::NotFound, 7, "") +
                               encodeAnswer(6, ServiceAnswerStatus::Found, 0, "tail");
    for (size_t chunk : {size_t(7), size_t(16384), size_t(65536), stream.size()}) {
        ProtocolReader r(ProtocolReader::Peer::Service, 1 << 20);
        std::vector<ProtocolMessage> msgs;
        ProtocolMessage m;
        size_t fed = 0;
        for (size_t i = 0; i < stream.size(); i += chunk) {
            const std::string_view piece = std::string_view(stream).substr(i, chunk);
            ASSERT_TRUE(r.feed(piece));
            fed += piece.size();
            while (r.next(&m)) msgs.push_back(std::move(m));
            size_t returned = 0;
            for (const ProtocolMessage& x : msgs)
                returned += x.kind == ProtocolMessage::Kind::Version
                                ? V.size()
                                : encodeAnswer(x.id, x.status, x.ageMs, x.payload).size();
            // At most what was not returned: an ANSWER line already read
            // while its payload comes is not counted, its payload is.
            EXPECT_LE(r.buffered(), fed - returned) << chunk << " at " << i;
            EXPECT_GE(r.buffered() + 64, fed - returned) << chunk << " at " << i;
        }
        ASSERT_FALSE(r.failed()) << r.error();
        ASSERT_EQ(msgs.size(), 4u) << chunk;
        EXPECT_EQ(msgs[1].id, 4u);
        EXPECT_TRUE(msgs[1].payload == payload) << chunk;
        EXPECT_EQ(msgs[2].id, 5u);
        EXPECT_EQ(msgs[2].ageMs, 7);
        EXPECT_EQ(msgs[2].payload, "");
        EXPECT_EQ(msgs[3].payload, "tail");
        EXPECT_EQ(r.buffered(), 0u);
    }
}

// A broken stream in the middle of a payload: the partial payload is
// dropped with the rest, nothing of it is returned or counted.
TEST(DirectoryProtocol, FailureInsidePayloadDropsIt) {
    ProtocolReader r(ProtocolReader::Peer::Service, 100);
    auto msgs = readAll(r, V + "ANSWER 5 unavailable 0 4\na\x01" "cd", 1);
    ASSERT_TRUE(r.failed());
    EXPECT_NE(r.error().find("not printable"), std::string::npos) << r.error();
    EXPECT_EQ(msgs.size(), 1u);  // the VERSION only
    EXPECT_EQ(r.buffered(), 0u);
}

// A whole answer read in one go (the imap process reads everything the
// socket holds before asking for messages): the lines are parsed as they
// arrive and the payload goes straight into its message, never through the
// line buffer (issue 13 item 4: a 160 kB answer grew that buffer to 256 kB).
TEST(DirectoryProtocol, PayloadReadInOneGoSkipsTheLineBuffer) {
    const std::string payload(170000, 'q');
    const std::string stream = V + encodeAnswer(9, ServiceAnswerStatus::Found, 0, payload) +
                               encodeAnswer(10, ServiceAnswerStatus::NotFound, 0, "") + "ANSW";
    ProtocolReader r(ProtocolReader::Peer::Service, 1 << 20);
    ASSERT_TRUE(r.feed(stream));
    EXPECT_LE(r.lineBufferCapacity(), 2 * kDirectoryProtocolMaxLineBytes);
    // Not yet returned: the VERSION line, the payloads (ANSWER lines are
    // not counted) and the unfinished "ANSW".
    EXPECT_EQ(r.buffered(), V.size() + payload.size() + 4);
    ProtocolMessage m;
    ASSERT_TRUE(r.next(&m));
    EXPECT_EQ(m.kind, ProtocolMessage::Kind::Version);
    ASSERT_TRUE(r.next(&m));
    EXPECT_EQ(m.id, 9u);
    EXPECT_TRUE(m.payload == payload);
    ASSERT_TRUE(r.next(&m));
    EXPECT_EQ(m.id, 10u);
    EXPECT_FALSE(r.next(&m));
    EXPECT_EQ(r.buffered(), 4u);  // "ANSW", waiting for its LF
    EXPECT_FALSE(r.failed());
}

// Messages completed before a broken line in the same read are returned
// before the stream ends; nothing after the error is.
TEST(DirectoryProtocol, MessagesBeforeAnErrorInOneReadAreReturned) {
    const std::string stream = V + encodeAnswer(3, ServiceAnswerStatus::Found, 0, "abc") +
                               "ANSWER 4 bogus 0 0\n" +
                               encodeAnswer(5, ServiceAnswerStatus::Found, 0, "x");
    ProtocolReader r(ProtocolReader::Peer::Service, 100);
    EXPECT_FALSE(r.feed(stream));
    ASSERT_TRUE(r.failed());
    EXPECT_NE(r.error().find("unknown ANSWER status"), std::string::npos) << r.error();
    ProtocolMessage m;
    ASSERT_TRUE(r.next(&m));
    EXPECT_EQ(m.kind, ProtocolMessage::Kind::Version);
    ASSERT_TRUE(r.next(&m));
    EXPECT_EQ(m.id, 3u);
    EXPECT_EQ(m.payload, "abc");
    EXPECT_FALSE(r.next(&m));
    EXPECT_FALSE(r.feed(encodeAnswer(6, ServiceAnswerStatus::Found, 0, "")));
    EXPECT_FALSE(r.next(&m));
}

}  // namespace
}  // namespace dref
