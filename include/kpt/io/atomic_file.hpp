#pragma once
// io::write_file_atomic(file, chunks, who): the one way kpt writes a file. The bytes go to a
// temporary "<file>.tmp-<pid>-<n>" beside it, are flushed to disk (fsync), and the temporary is
// renamed over `file`, so a crash or an error leaves either the old file or the complete new one,
// never a half file. Errors are io_errors that start with `who` and name the file.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>

#include "kpt/core/error.hpp"

namespace kpt::io {

inline void write_file_atomic(const std::filesystem::path& file, std::initializer_list<std::string_view> chunks,
                              std::string_view who) {
  static std::atomic<unsigned> counter{0};
  const auto quote = [](const std::filesystem::path& p) { return "'" + p.string() + "'"; };
  const std::string where = quote(file);
  const std::filesystem::path tmp =
      file.string() + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    throw io_error(std::string(who) + ": cannot create " + quote(tmp) + " to write " + where + " (" +
                   std::strerror(errno) + "); check that the folder exists and is writable");
  bool ok = true;
  for (const auto c : chunks) ok = ok && (c.empty() || std::fwrite(c.data(), 1, c.size(), f) == c.size());
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const std::string why = ok ? std::string() : std::strerror(errno);
  ok = (std::fclose(f) == 0) && ok;
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(tmp, ec);
    throw io_error(std::string(who) + ": writing " + where + " failed (" + (why.empty() ? std::strerror(errno) : why) +
                   "); is the disk full? the previous file, if any, is unchanged");
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw io_error(std::string(who) + ": cannot move " + quote(tmp) + " to " + where + " (" + ec.message() +
                   "); check that " + where + " is not a folder and its folder is writable");
  }
}

inline void write_file_atomic(const std::filesystem::path& file, std::string_view bytes, std::string_view who) {
  write_file_atomic(file, {bytes}, who);
}

}  // namespace kpt::io
