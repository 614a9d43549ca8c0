// std::terminate's default handler inside the Dovecot modules that link
// libstdc++ statically (cmake/DrefStaticCxxRuntime.cmake).
//
// libstdc++'s own (__gnu_cxx::__verbose_terminate_handler) demangles the
// exception's type name, which links the whole C++ demangler into each
// module: ~45 KB of code and 3.2 KB of pointer tables in .data.rel.ro,
// relocated and copied in every process that loads the module (one imap
// process per session in Dovecot's default mode; docs/benchmarks.md,
// issue 13, "Session 14: the plugin's load cost").  Defining the handler
// here keeps that archive member, and the demangler with it, out of the
// link.  No exception is meant to reach it (every entry point from Dovecot
// catches); if one does, the log still gets the (mangled) type name and the
// process aborts as before.
#include <cxxabi.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <typeinfo>

namespace {

void writeAll(const char* text) {
    size_t left = strlen(text);
    while (left > 0) {
        const ssize_t n = write(STDERR_FILENO, text, left);
        if (n <= 0) return;
        text += n;
        left -= static_cast<size_t>(n);
    }
}

}  // namespace

namespace __gnu_cxx {

void __verbose_terminate_handler() {
    static bool terminating = false;
    if (terminating) {
        writeAll("dovecot-referral: terminate called recursively\n");
        std::abort();
    }
    terminating = true;
    const std::type_info* type = abi::__cxa_current_exception_type();
    if (type != nullptr) {
        // The mangled name (c++filt -t reads it): demangling is what this
        // handler exists to leave out.
        writeAll("dovecot-referral: terminate called after an uncaught exception of type ");
        writeAll(type->name());
        writeAll("\n");
    } else {
        writeAll("dovecot-referral: terminate called without an active exception\n");
    }
    std::abort();
}

}  // namespace __gnu_cxx
