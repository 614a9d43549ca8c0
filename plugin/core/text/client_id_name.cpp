#include "client_id_name.h"

#include <cctype>
#include <optional>

namespace dref {
namespace {

class IdReader {
public:
    explicit IdReader(std::string_view s) : s_(s) {}

    // Next IMAP string; nullopt at the end or on malformed input.  NIL is
    // returned as an empty string with *isNil set.
    std::optional<std::string> next(bool* isNil) {
        *isNil = false;
        while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
        if (pos_ >= s_.size()) return std::nullopt;
        char c = s_[pos_];
        if (c == '"') return quoted();
        if (c == '{') return literal();
        return atom(isNil);
    }

private:
    std::optional<std::string> quoted() {
        std::string out;
        ++pos_;
        while (pos_ < s_.size()) {
            char c = s_[pos_++];
            if (c == '"') return out;
            if (c == '\\') {
                if (pos_ >= s_.size()) return std::nullopt;
                c = s_[pos_++];
            }
            out.push_back(c);
        }
        return std::nullopt;  // unterminated
    }

    std::optional<std::string> literal() {
        size_t close = s_.find('}', pos_);
        if (close == std::string_view::npos) return std::nullopt;
        size_t len = 0;
        for (size_t i = pos_ + 1; i < close; ++i) {
            char c = s_[i];
            if (c == '+') continue;  // LITERAL+ form
            if (c < '0' || c > '9' || len > s_.size()) return std::nullopt;
            len = len * 10 + static_cast<size_t>(c - '0');
        }
        size_t start = close + 1;
        if (s_.substr(start, 2) == "\r\n") start += 2;
        if (start > s_.size() || s_.size() - start < len) return std::nullopt;
        pos_ = start + len;
        return std::string(s_.substr(start, len));
    }

    std::optional<std::string> atom(bool* isNil) {
        size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] != ' ') ++pos_;
        std::string out(s_.substr(start, pos_ - start));
        if (out.size() == 3 && (out[0] | 0x20) == 'n' && (out[1] | 0x20) == 'i' &&
            (out[2] | 0x20) == 'l') {
            *isNil = true;
            out.clear();
        }
        return out;
    }

    std::string_view s_;
    size_t pos_ = 0;
};

bool isNameKey(const std::string& key) {
    if (key.size() != 4) return false;
    static const char kName[] = "name";
    for (size_t i = 0; i < 4; ++i)
        if (std::tolower(static_cast<unsigned char>(key[i])) != kName[i]) return false;
    return true;
}

}  // namespace

std::string clientIdName(std::string_view retained, size_t maxLen) {
    IdReader reader(retained);
    for (;;) {
        bool keyNil = false, valueNil = false;
        std::optional<std::string> key = reader.next(&keyNil);
        if (!key) return "";
        std::optional<std::string> value = reader.next(&valueNil);
        if (!value) return "";
        if (!keyNil && isNameKey(*key)) {
            if (valueNil) return "";
            if (value->size() > maxLen) value->resize(maxLen);
            return *value;
        }
    }
}

}  // namespace dref
