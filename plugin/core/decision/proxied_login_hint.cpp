#include "proxied_login_hint.h"

#include "ascii.h"

namespace dref {

namespace {

// As imap-login reads it (client_send_login_reply): the name and one space.
constexpr std::string_view kCapabilityCode = "CAPABILITY ";

std::string_view skipSpaces(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return s;
}

}  // namespace

BackendLoginOk parseBackendLoginOk(std::string_view afterOk) {
    BackendLoginOk out;
    std::string_view rest = afterOk;
    if (!rest.empty() && rest.front() == '[') {
        const size_t close = rest.find(']');
        if (close != std::string_view::npos) {
            const std::string_view code = rest.substr(1, close - 1);
            if (code.size() >= kCapabilityCode.size() &&
                equalsIgnoreCaseAscii(code.substr(0, kCapabilityCode.size()), kCapabilityCode)) {
                out.hasCapability = true;
                out.capability = std::string(code.substr(kCapabilityCode.size()));
            }
            rest = skipSpaces(rest.substr(close + 1));
        }
    }
    out.text = std::string(rest);
    return out;
}

std::string hintedBackendLoginOk(std::string_view tagPrefix, std::string_view code,
                                 std::string_view text) {
    std::string line;
    line.reserve(tagPrefix.size() + code.size() + text.size() + 6);
    line.append(tagPrefix).append("OK [").append(code).append("] ").append(text);
    return line;
}

}  // namespace dref
