// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/unix_listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sara {

UniqueFd listen_unix(const std::string& path, const std::string& owner, int backlog, int socket_flags,
                     std::string* error) {
    auto fail = [&](const std::string& reason) {
        if (error) *error = "control socket " + path + ": " + reason;
        return UniqueFd();
    };
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(address.sun_path)) return fail("path too long");
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    const auto* as_sockaddr = reinterpret_cast<const sockaddr*>(&address);

    std::error_code ec;
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) return fail("directory " + dir.string() + ": " + ec.message());
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return fail("exists and is not a socket; not removing it");
        // Stale only if nobody listens (ECONNREFUSED): a live daemon, even a slow one, keeps it.
        const UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!probe) return fail(std::strerror(errno));
        if (::connect(probe.get(), as_sockaddr, sizeof(address)) == 0)
            return fail("another " + owner + " listens on it; not taking it over");
        if (errno != ECONNREFUSED) return fail(std::strerror(errno));
        ::unlink(path.c_str());  // stale: left by a run that did not stop cleanly
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | socket_flags, 0));
    if (!fd) return fail(std::strerror(errno));
    // Created 0660 from the start: no moment where the socket is more open than that.
    const mode_t old_mask = ::umask(0117);
    const int bound = ::bind(fd.get(), as_sockaddr, sizeof(address));
    const int bind_errno = errno;
    ::umask(old_mask);
    if (bound != 0) return fail(std::strerror(bind_errno));
    if (::listen(fd.get(), backlog) != 0) {
        const int listen_errno = errno;
        ::unlink(path.c_str());
        return fail(std::strerror(listen_errno));
    }
    return fd;
}

}  // namespace sara
