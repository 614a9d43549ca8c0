#pragma once
// RFC 5092 IMAP URLs in both directions, for code that parses and builds
// them (a directory URL re-built as a referral): the parts and their checks
// (imap_url_parts.h), the parser (imap_url_parse.h) and the builder
// (imap_url_build.h).  Code that only needs one direction includes that
// header.
#include "imap_url_build.h"
#include "imap_url_parse.h"
#include "imap_url_parts.h"
