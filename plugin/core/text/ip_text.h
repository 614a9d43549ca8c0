#pragma once
// An IP address as text for log lines, appended to a buffer the caller
// keeps: the login plugin writes the client's addresses into its referral
// line at every referral login, and glibc's inet_ntop() (sprintf per
// octet) cost more than the rest of the line (docs/benchmarks.md, issue 13).
#include <string>

namespace dref {

enum class IpFamily { None, V4, V6 };

// Appends the address in its usual form: IPv4 dotted decimal, IPv6 as
// inet_ntop() writes it (RFC 5952), nothing for IpFamily::None (a client
// on a UNIX socket has no address).  `bytes` holds 4 (V4) or 16 (V6)
// octets in network order.  May throw std::bad_alloc.
void appendIpAddress(std::string* out, IpFamily family, const unsigned char* bytes);

}  // namespace dref
