#include "key_value_args.h"

#include <cstring>

namespace dref {

const char* keyValueArgValue(const char* arg, std::string_view key) noexcept {
    // The first octet decides for most args (strncmp() stops at the
    // arg's NUL, so a shorter arg is never read past).
    if (key.empty() || arg[0] != key[0] || std::strncmp(arg, key.data(), key.size()) != 0 ||
        arg[key.size()] != '=')
        return nullptr;
    return arg + key.size() + 1;
}

void findKeyValueArgs(const char* const* args, const KeyValueSlot* slots, size_t slotCount) noexcept {
    if (args == nullptr) return;
    size_t found = 0;
    for (const char* const* arg = args; *arg != nullptr && found < slotCount; ++arg) {
        for (size_t i = 0; i < slotCount; ++i) {
            if (*slots[i].value != nullptr) continue;
            if (const char* value = keyValueArgValue(*arg, slots[i].key)) {
                *slots[i].value = value;
                ++found;
                break;
            }
        }
    }
}

}  // namespace dref
