#pragma once
// Loading settings text in the settings unit tests (settings_*_test.cpp;
// not a test file itself).  The text is named "t.conf"; kRequired fills
// lines 1-2, so the first line of `extra` is line 3.
#include <gtest/gtest.h>

#include <string>

#include "settings.h"

namespace dref::testing_settings {

inline const char kRequired[] = "ldap_uris = ldap://127.0.0.1\nuser_base = dc=example,dc=test\n";

inline bool loadText(const std::string& text, Settings* s, std::string* error) {
    SettingsFile f;
    if (!parseSettingsText(text, "t.conf", &f, error)) return false;
    return loadSettings(f, s, error);
}

inline Settings loadOk(const std::string& extra) {
    Settings s;
    std::string error;
    EXPECT_TRUE(loadText(kRequired + extra, &s, &error)) << error;
    return s;
}

// Loads kRequired (lines 1-2) + `extra` (line 3 on) and returns the error.
inline std::string loadFails(const std::string& extra) {
    Settings s;
    std::string error;
    EXPECT_FALSE(loadText(kRequired + extra, &s, &error)) << extra;
    return error;
}

}  // namespace dref::testing_settings
