#include "settings_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "process_secrets.h"
#include "response_text.h"

namespace dref {

namespace {

constexpr size_t kMaxLineLength = 4096;
constexpr size_t kMaxFileSize = 1024 * 1024;

bool isBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
    while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
    return s;
}

bool isKeyChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

bool lineError(std::string* error, const std::string& path, int line, std::string_view key,
               const std::string& message) {
    if (error) {
        *error = path + ":" + std::to_string(line) + ": " + quoteForLog(key, 64) + ": " + message;
    }
    return false;
}

bool parseText(std::string_view text, const std::string& path, SettingsFile* out,
               std::string* error) {
    SettingsFile file;
    file.path = path;
    int lineNo = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        ++lineNo;
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view raw = text.substr(pos, end - pos);
        pos = end + 1;
        if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
        // The first word stands in for the key in messages about this line.
        std::string_view firstWord = trim(raw);
        firstWord = firstWord.substr(0, std::min(firstWord.find_first_of(" \t="), firstWord.size()));
        if (raw.size() > kMaxLineLength)
            return lineError(error, path, lineNo, firstWord,
                             "line longer than " + std::to_string(kMaxLineLength) + " octets");
        if (raw.find('\0') != std::string_view::npos)
            return lineError(error, path, lineNo, firstWord, "NUL byte in line");
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') continue;
        if (line.front() == '!')
            return lineError(error, path, lineNo, firstWord,
                             "directives such as !include are not supported");
        const size_t eq = line.find('=');
        if (eq == std::string_view::npos)
            return lineError(error, path, lineNo, firstWord, "expected \"key = value\"");
        const std::string_view key = trim(line.substr(0, eq));
        if (key.empty()) return lineError(error, path, lineNo, "(empty)", "empty key");
        for (char c : key) {
            if (!isKeyChar(c)) return lineError(error, path, lineNo, key, "invalid character in key");
        }
        std::string_view value = trim(line.substr(eq + 1));
        if (!value.empty() && value.front() == '"') {
            if (value.size() < 2 || value.back() != '"')
                return lineError(error, path, lineNo, key, "unterminated quoted value");
            // Only the outer pair is removed, so any value can be written
            // (a password may itself start with '"').
            value = value.substr(1, value.size() - 2);
        }
        file.lines.push_back(SettingLine{std::string(key), std::string(value), lineNo});
    }
    *out = std::move(file);
    return true;
}

}  // namespace

bool parseSettingsText(std::string_view text, const std::string& path, SettingsFile* out,
                       std::string* error) {
    try {
        return parseText(text, path, out, error);
    } catch (...) {
        if (error) *error = path + ": out of memory";
        return false;
    }
}

bool readSettingsText(const std::string& path, std::string* text, std::string* error) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (error) *error = path + ": cannot open: " + std::strerror(err);
        return false;
    }
    std::string got;
    bool ok = true;
    char buf[8192];
    try {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (error) *error = path + ": is a directory";
            ok = false;
        }
        while (ok) {
            const ssize_t n = read(fd, buf, sizeof buf);
            if (n == 0) break;
            if (n < 0) {
                const int err = errno;
                if (err == EINTR) continue;
                if (error) *error = path + ": read error: " + std::strerror(err);
                ok = false;
            } else if (got.size() + static_cast<size_t>(n) > kMaxFileSize) {
                if (error) *error = path + ": larger than " + std::to_string(kMaxFileSize) + " octets";
                ok = false;
            } else {
                got.append(buf, static_cast<size_t>(n));
            }
        }
    } catch (...) {
        if (error) *error = path + ": cannot read (out of memory)";
        ok = false;
    }
    close(fd);
    wipeBytes(buf, sizeof buf);  // the file's last octets, passwords included
    if (!ok) {
        wipeString(&got);
        return false;
    }
    text->swap(got);
    return true;
}

bool readSettingsFile(const std::string& path, SettingsFile* out, std::string* error) {
    std::string text;
    bool ok = readSettingsText(path, &text, error);
    if (ok) {
        try {
            ok = parseText(text, path, out, error);
        } catch (...) {
            if (error) *error = path + ": cannot read (out of memory)";
            ok = false;
        }
    }
    wipeString(&text);
    return ok;
}

}  // namespace dref
