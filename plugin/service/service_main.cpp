// referral-directory: the Dovecot service that keeps one LDAP connection and
// one cache of remote mailbox answers for every imap process of the machine
// (docs/directory-service.md).  Started by Dovecot's master from
//
//   service referral-directory {
//     executable = referral-directory [/etc/dovecot/dovecot-referral.conf.ext]
//     unix_listener referral-directory { mode = 0660; group = <the imap processes' group> }
//   }
//
// Glue only: the protocol, the cache and the lookups are in
// ldap/directory/directory_service.cpp (no Dovecot include, unit-tested).
// This file reads the settings file (as root, before the privilege drop, as
// the auth process does), attaches descriptors to Dovecot's ioloop and keeps
// master's client count.  No exception leaves a Dovecot frame.
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>

#include "directory.h"
#include "directory_service.h"
#include "dovecot_compat.h"
#include "dref_version.h"
#include "settings.h"

namespace {

struct Watch {
    struct io* read = nullptr;
    struct io* write = nullptr;
};

std::unique_ptr<dref::Settings> g_settings;
std::unique_ptr<dref::Directory> g_directory;
std::unique_ptr<dref::DirectoryService> g_service;
struct io* g_directoryIo = nullptr;
std::unordered_map<int, Watch> g_watches;
// Debug lines go through an event of category "referral" (as the imap
// plugin's), so Dovecot's log_debug filter decides whether they are written
// (log_debug = category=referral); a plain i_debug always is on 2.3.
struct event* g_event = nullptr;
struct event_category g_category = {nullptr, "referral", nullptr};

template <typename F>
void guarded(const char* where, F&& f) noexcept {
    try {
        f();
    } catch (const std::exception& e) {
        i_error("%s: %s", where, e.what());
    } catch (...) {
        i_error("%s: unknown exception", where);
    }
}

void* fdContext(int fd) { return reinterpret_cast<void*>(static_cast<intptr_t>(fd)); }
int contextFd(void* context) { return static_cast<int>(reinterpret_cast<intptr_t>(context)); }

void onConnectionReadable(void* context) {
    guarded("client input", [context] { g_service->onReadable(contextFd(context)); });
}

void onConnectionWritable(void* context) {
    guarded("client output", [context] { g_service->onWritable(contextFd(context)); });
}

void onDirectoryReadable(void*) {
    guarded("directory", [] { g_directory->process(); });
}

// DirectoryService's watch callback: what to watch on a client descriptor.
void watch(int fd, bool open, bool wantWrite) {
    Watch& w = g_watches[fd];
    if (!open) {
        if (w.read != nullptr) io_remove(&w.read);
        if (w.write != nullptr) io_remove(&w.write);
        g_watches.erase(fd);
        master_service_client_connection_destroyed(master_service);
        return;
    }
    if (w.read == nullptr) w.read = io_add(fd, IO_READ, onConnectionReadable, fdContext(fd));
    if (wantWrite && w.write == nullptr)
        w.write = io_add(fd, IO_WRITE, onConnectionWritable, fdContext(fd));
    else if (!wantWrite && w.write != nullptr)
        io_remove(&w.write);
}

void log(dref::DirectoryService::LogLevel level, const std::string& text) {
    using L = dref::DirectoryService::LogLevel;
    switch (level) {
    case L::Debug: e_debug(g_event, "%s", text.c_str()); break;
    case L::Info: i_info("%s", text.c_str()); break;
    case L::Warning: i_warning("%s", text.c_str()); break;
    case L::Error: i_error("%s", text.c_str()); break;
    }
}

void clientConnected(struct master_service_connection* conn) {
    // Accepted: the descriptor is ours (closed by the service core), and
    // master counts the client until watch() reports it gone.
    master_service_client_connection_accept(conn);
    bool added = false;
    guarded("new client", [conn, &added] {
        g_service->addConnection(conn->fd);
        added = true;
    });
    if (!added) {
        i_close_fd(&conn->fd);
        master_service_client_connection_destroyed(master_service);
    }
}

// Everything before the privilege drop: the settings file may be readable
// by root and the mail group only.
bool loadSettings(const char* path) noexcept {
    try {
        auto settings = std::make_unique<dref::Settings>();
        std::string error;
        if (!dref::loadSettingsFromPath(path, settings.get(), &error)) {
            i_error("dovecot-referral directory service: %s", error.c_str());
            return false;
        }
        g_settings = std::move(settings);
        return true;
    } catch (const std::exception& e) {
        i_error("dovecot-referral directory service: %s: %s", path, e.what());
    } catch (...) {
        i_error("dovecot-referral directory service: %s: unknown exception", path);
    }
    return false;
}

bool startDirectory() noexcept {
    try {
        std::string error;
        dref::DirectoryOptions options;
        options.cacheMailboxes = false;  // the service keeps its own, encoded
        options.encodeMailboxes = true;  // on the LDAP thread, as the entries arrive
        g_directory = dref::Directory::create(*g_settings, &error, options);
        if (!g_directory) {
            i_error("dovecot-referral directory service: %s: directory: %s",
                    g_settings->path.c_str(), error.c_str());
            return false;
        }
        g_directoryIo = io_add(g_directory->eventFd(), IO_READ, onDirectoryReadable, nullptr);
        g_service = std::make_unique<dref::DirectoryService>(*g_directory, *g_settings, log, watch);
        return true;
    } catch (const std::exception& e) {
        i_error("dovecot-referral directory service: %s", e.what());
    } catch (...) {
        i_error("dovecot-referral directory service: start failed");
    }
    return false;
}

void stopDirectory() noexcept {
    guarded("shutdown", [] {
        g_service.reset();
        if (g_directoryIo != nullptr) io_remove(&g_directoryIo);
        g_directory.reset();
        g_settings.reset();
    });
}

}  // namespace

int main(int argc, char* argv[]) {
    // NO_IDLE_DIE: the cache is the point of this process; master's idle
    // kill would throw it away whenever no imap process is asking.
    const enum master_service_flags flags = static_cast<enum master_service_flags>(
        MASTER_SERVICE_FLAG_DONT_SEND_STATS | MASTER_SERVICE_FLAG_NO_IDLE_DIE |
        MASTER_SERVICE_FLAG_NO_SSL_INIT);
    master_service = master_service_init("referral-directory", flags, &argc, &argv, "");
    if (master_getopt(master_service) > 0) return FATAL_DEFAULT;
    const char* error = nullptr;
    if (!dref::compat::readServiceSettings(master_service, &error))
        i_fatal("Error reading configuration: %s", error);
    master_service_init_log(master_service);
    g_event = event_create(nullptr);
    event_add_category(g_event, &g_category);

    const char* path = optind < argc ? argv[optind] : DREF_DEFAULT_SETTINGS_FILE;
    if (!loadSettings(path)) i_fatal("dovecot-referral directory service: cannot start");

    restrict_access_by_env(RESTRICT_ACCESS_FLAG_ALLOW_ROOT, NULL);
    restrict_access_allow_coredumps(TRUE);

    if (!startDirectory()) i_fatal("dovecot-referral directory service: cannot start");
    // One line per start: a restart (crash, kill) shows in the log.
    i_info("dovecot-referral " DREF_VERSION " directory service started: settings %s, identity %s",
            path, g_service->identity().c_str());
    master_service_init_finish(master_service);
    master_service_run(master_service, clientConnected);
    stopDirectory();
    event_unref(&g_event);
    master_service_deinit(&master_service);
    return 0;
}
