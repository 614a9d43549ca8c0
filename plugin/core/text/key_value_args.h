#pragma once
// "key=value" strings in a NULL-terminated array: how Dovecot hands a
// login's passdb extra fields to imap-login (client->auth_passdb_args).
// The login plugin reads the referral's fields from there at every
// referral login, so the fields it wants are found in one pass.
#include <cstddef>
#include <string_view>

namespace dref {

// The value of `arg` when it is "<key>=<value>", else nullptr.  `key` holds
// no '=' and no NUL.
const char* keyValueArgValue(const char* arg, std::string_view key) noexcept;

// One key wanted, and where its value goes.
struct KeyValueSlot {
    std::string_view key;
    const char** value;  // nullptr on entry; set to the first value of `key`
};

// One pass over `args` (NULL-terminated; nullptr: no args): every slot gets
// the value of the first arg with its key (a later one of the same key
// does not count, as Dovecot reads them), and keeps nullptr when none has
// it.  Stops once every slot has a value.
void findKeyValueArgs(const char* const* args, const KeyValueSlot* slots, size_t slotCount) noexcept;

}  // namespace dref
