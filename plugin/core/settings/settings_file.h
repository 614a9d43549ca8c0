#pragma once
// The one settings file shared by the passdb driver, the login plugin, the
// imap plugin and the lookup command (ARCHITECTURE.md §4), in the
// `key = value` style of dovecot-ldap.conf.ext:
//   - '#' starts a comment line; blank lines are ignored;
//   - surrounding white space of key and value is trimmed; a value may be
//     wrapped in double quotes to keep leading/trailing spaces (only the
//     outer pair is removed; there are no escapes);
//   - '#' starts a comment only at the beginning of a line;
//   - "!include <path>" is not supported (one file, one truth).
// Every problem is reported as "<file>:<line>: <key>: <message>".
#include <string>
#include <string_view>
#include <vector>

namespace dref {

struct SettingLine {
    std::string key;
    std::string value;
    int line = 0;
};

struct SettingsFile {
    std::string path;
    std::vector<SettingLine> lines;
};

// Parses text (already read from `path`, used only for messages).  Returns
// false and sets *error on a syntax error (a line without '=', an empty key,
// an unterminated quote, a NUL byte, a line over 4096 octets).
bool parseSettingsText(std::string_view text, const std::string& path, SettingsFile* out,
                       std::string* error);

// Reads a whole file (at most 1 MiB) into *text with plain POSIX calls.  Not
// an std::ifstream: the modules link the C++ runtime statically, and
// iostreams would bring libstdc++'s locale code into each of them and build
// the global locale in every process that reads the file: in Dovecot's
// default mode one imap process per session (docs/benchmarks.md, issue 13
// item 4, session 13).  The read buffer is wiped (the file may hold a bind
// password); *text is the caller's to wipe.  *text is untouched on failure.
bool readSettingsText(const std::string& path, std::string* text, std::string* error);

// readSettingsText + parseSettingsText; a missing or unreadable file is an
// error.  The raw text is wiped once parsed.
bool readSettingsFile(const std::string& path, SettingsFile* out, std::string* error);

}  // namespace dref
