#pragma once
// Modified UTF-7 (RFC 3501 §5.1.3): IMAP's wire encoding of mailbox names.
#include <optional>
#include <string>
#include <string_view>

namespace dref {

// Decodes a wire mailbox name to UTF-8. Rejects: non-ASCII octets, an
// unterminated "&" shift, base64 that is not minimal or has non-zero pad bits,
// "&-" pairs encoded as base64 ("&ACY-"), empty shifts other than "&-",
// printable ASCII encoded in base64, unpaired surrogates, NUL.
std::optional<std::string> mutf7ToUtf8(std::string_view wire, std::string* error = nullptr);

// Encodes UTF-8 to modified UTF-7. Rejects invalid UTF-8 (overlong forms,
// surrogates, code points above U+10FFFF, truncated sequences) and NUL.
std::optional<std::string> utf8ToMutf7(std::string_view utf8, std::string* error = nullptr);

// Strict UTF-8 validation used by both directions and by directory mapping.
bool isValidUtf8(std::string_view s);
// True when valid UTF-8 `s` holds a C0 control, DEL or a C1 control
// (U+0080..U+009F, encoded C2 80..C2 9F): text a log line or a client must
// never receive from a directory value or a cache file.
bool hasControlCharacter(std::string_view s);

}  // namespace dref
