#pragma once
// The Dovecot headers of the imap-process glue, in one place: they are C
// without extern "C" guards (DOVECOT-NOTES §4.1), so they are wrapped here.
// Only the glue files of plugin/imap include this; no login-side header may
// ever join them (each side defines its own struct client).
extern "C" {
#include "lib.h"
#include "array.h"
#include "str.h"
#include "ioloop.h"
#include "istream.h"
#include "module-context.h"
#include "imap-common.h"
#include "imap-client.h"
#include "imap-commands.h"
#include "imap-quote.h"
#include "imap-utf7.h"
#include "mail-error.h"
#include "mail-namespace.h"
#include "mail-storage-private.h"
#include "mail-storage-hooks.h"
#include "mailbox-list-private.h"
#include "mailbox-list-iter.h"
#include "mail-user.h"
}
