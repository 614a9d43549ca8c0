#pragma once
// The IMAP ID "name" the client sent, out of the string imap-login retains
// with `imap_id_retain = yes` and hands to the auth process as client_id.
// No Dovecot include: unit-testable.
#include <string>
#include <string_view>

namespace dref {

// `retained` is a sequence of IMAP strings, key value key value ...:
// quoted strings with \" and \\ escapes, atoms, NIL, and (defensively)
// literals {n}CRLF<n octets>.  Returns the value of the first key equal to
// "name" (ASCII case-insensitive), or "" when there is none, the value is
// NIL, or the input is malformed before the key is found.  Values longer
// than `maxLen` octets are cut.  The result is untrusted bytes: match it,
// never copy it onto the wire, quote it for logs.
std::string clientIdName(std::string_view retained, size_t maxLen = 256);

}  // namespace dref
