// install_paths.h — where an installed sse-server finds its demo page (server layer).
//
// `make install` puts the binary in PREFIX/bin and the page in
// PREFIX/share/sse-server/www. No path is compiled in: the page is found
// relative to the running executable (/proc/self/exe), so any PREFIX and
// DESTDIR work, and a copied tree keeps working.
#pragma once

#include <string>

namespace sse {

// The path of the running executable (readlink /proc/self/exe), or "".
std::string self_exe_path();

// EXE's directory + "/../share/sse-server/www" when that is a directory,
// else "".
std::string installed_www_dir(const std::string& exe_path);

// The static directory to serve when --www was not given: "./www" if it
// exists, else the installed page next to this executable if there is one,
// else "./www" (which Server::open then reports as "no static files").
std::string default_www_dir();

}  // namespace sse
