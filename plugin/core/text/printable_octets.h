#pragma once
// Where a text holds an octet outside printable US-ASCII, found eight
// octets at a time: the imap process checks every octet of a directory
// answer (160 kB for 1,000 remote mailboxes) and of each URL in it at every
// session start (issue 13 item 4), and an octet at a time was a tenth of
// the answer's decoding and a sixth of a URL's parse.
#include <cstddef>
#include <string_view>

namespace dref {

// Which octets are forbidden: those below `lowest` (0x20: controls;
// 0x21: controls and the space), DEL and every 8-bit octet; LF as well
// unless `allowLf` (text made of lines).
struct PrintableRule {
    unsigned char lowest = 0x20;
    bool allowLf = false;
};

bool isForbiddenOctet(unsigned char c, PrintableRule rule);

// The offset of the first forbidden octet of `bytes`, or npos.
size_t findForbiddenOctet(std::string_view bytes, PrintableRule rule);

}  // namespace dref
