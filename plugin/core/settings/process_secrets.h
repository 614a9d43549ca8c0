#pragma once
// Which processes may hold which secrets of the settings file.  The file is
// shared (settings_file.h), but its readers are not equally trusted:
//  - the auth process binds with ldap_bind_dn and, in password mode
//    (password_attribute), reads every user's password hash with it;
//  - the imap processes run as the mail user, so whoever takes over their
//    own imap process can read the file they read and use its bind DN;
//  - the login processes read the file as root before they drop privileges
//    and chroot, then face unauthenticated clients: they need none of the
//    file's secrets, so they keep none (docs/security.md §2 and §4).
#include <cstddef>
#include <string>

namespace dref {

struct Settings;

// "" when the imap plugin may use these settings; else the sentence for its
// error line.  A file with password_attribute is refused: its bind DN can
// read every password hash, and the mail processes must not hold that DN.
std::string mailProcessSettingsProblem(const Settings& settings);

// Overwrites and empties every password of the settings, for a process that
// uses none of them (the login plugin; the imap plugin refusing a file)
// (ldap_bind_password, proxy_master_password, mailbox_relay_master_password).
void forgetSettingsSecrets(Settings* settings);

// Overwrites n octets at p with NUL (not optimised away).
void wipeBytes(void* p, size_t n);

// Overwrites every character of *s with NUL (not optimised away), keeping
// its size.
void overwriteString(std::string* s);

// overwriteString(), then empties *s and releases its buffer.
void wipeString(std::string* s);

// Overwrites *s (overwriteString()) when the scope ends, however it ends:
// for a copy of a secret made for one use, such as the auth process's
// copies of a stored password hash for one password check.  The copy's
// buffer is freed later, by its owner, without the secret in it.
class WipeOnExit {
public:
    explicit WipeOnExit(std::string* s) noexcept : s_(s) {}
    ~WipeOnExit() { overwriteString(s_); }
    WipeOnExit(const WipeOnExit&) = delete;
    WipeOnExit& operator=(const WipeOnExit&) = delete;

private:
    std::string* s_;
};

}  // namespace dref
