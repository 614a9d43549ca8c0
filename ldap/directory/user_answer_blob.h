#pragma once
// A user's directory answer as the directory's cache keeps it: one string
// of bytes instead of a UserLookupResult with a string of its own per
// field, so that a cached user is one allocation in the cache's own memory
// (ttl_cache.h says why that memory is kept apart).  Only this process
// reads what it wrote; the decoder still checks every length.
#include <memory_resource>
#include <string>
#include <string_view>

#include "directory.h"

namespace dref {

// Everything a reader of the cache sees except fromCache, stale and
// elapsedUs, which describe one answer, not the user.
void encodeUserAnswer(const UserLookupResult& answer, std::pmr::string* blob);

// Replaces *answer with the decoded one, reusing its strings' storage
// (a warm login decodes into the same object each time); fromCache set,
// stale cleared, elapsedUs 0.  false (and *answer unspecified) when `blob`
// is not what encodeUserAnswer() wrote.
bool decodeUserAnswer(std::string_view blob, UserLookupResult* answer);

}  // namespace dref
