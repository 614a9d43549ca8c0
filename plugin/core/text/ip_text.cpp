#include "ip_text.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace dref {

void appendIpAddress(std::string* out, IpFamily family, const unsigned char* bytes) {
    if (family == IpFamily::V4) {
        for (int i = 0; i < 4; ++i) {
            if (i > 0) *out += '.';
            const unsigned int octet = bytes[i];
            if (octet >= 100) *out += static_cast<char>('0' + octet / 100);
            if (octet >= 10) *out += static_cast<char>('0' + octet / 10 % 10);
            *out += static_cast<char>('0' + octet % 10);
        }
    } else if (family == IpFamily::V6) {
        // Rare on this path; the zero compression rules are inet_ntop()'s.
        struct in6_addr addr;
        std::memcpy(&addr, bytes, sizeof addr);
        char text[INET6_ADDRSTRLEN];
        if (inet_ntop(AF_INET6, &addr, text, sizeof text) != nullptr) *out += text;
    }
}

}  // namespace dref
