#pragma once
// The `kpt` command line: a registry of subcommands and a small flag parser.
//
// Adding a command: create tools/kpt/cmd_<name>.cpp (CMake picks it up) with
//
//   namespace {
//   int run(std::span<const std::string> args) {
//     kpt::cli::flags f("name", "one-line summary");
//     f.option("--in", "FILE", "input image", {.required = true});
//     f.option("--k", "N", "how many", {.default_value = "10"});
//     f.toggle("--verbose", "print more");
//     if (!f.parse(args)) return 0;                   // --help was printed
//     const auto in = f.existing_file("--in");        // missing file -> usage_error (exit 2)
//     const auto k = f.integer("--k", 1);             // bad number -> usage_error (exit 2)
//     ...
//     return 0;
//   }
//   const kpt::cli::registrar reg("name", "one-line summary", run);
//   }  // namespace
//
// Exit codes (main.cpp): 0 success; 2 bad command line, unknown flag, missing or unreadable input
// file (cli::usage_error, kpt::io_error); 1 any other error.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kpt::cli {

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using command_fn = int (*)(std::span<const std::string> args);

struct command {
  std::string name, summary;
  command_fn run;
};

// All commands, in registration order (main sorts them by name for --help).
inline std::vector<command>& registry() {
  static std::vector<command> commands;
  return commands;
}

struct registrar {
  registrar(std::string name, std::string summary, command_fn run) {
    registry().push_back({std::move(name), std::move(summary), run});
  }
};

struct option_spec {
  std::string default_value{};
  bool required = false;
};

// Flags of one command: `--name VALUE` or `--name=VALUE` options and `--name` toggles.
class flags {
 public:
  flags(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary)) {}

  flags& option(std::string name, std::string metavar, std::string help, option_spec spec = {}) {
    specs_.push_back({std::move(name), std::move(metavar), std::move(help), std::move(spec), false});
    return *this;
  }
  flags& toggle(std::string name, std::string help) {
    specs_.push_back({std::move(name), "", std::move(help), {}, true});
    return *this;
  }
  // A positional argument (e.g. "RUN", or "A" then "B"), in declaration order; read it by its name:
  // f.get("RUN"), f.existing_file("A"). Required unless spec says otherwise.
  flags& positional(std::string name, std::string help, option_spec spec = {.required = true}) {
    specs_.push_back({std::move(name), "", std::move(help), std::move(spec), false, true});
    return *this;
  }

  // Parses args (without the command name). Returns false after printing the usage for --help.
  bool parse(std::span<const std::string> args, std::ostream& out);
  bool parse(std::span<const std::string> args);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  bool on(const std::string& name) const { return has(name); }
  // The value given, or the default (usage_error if neither).
  std::string get(const std::string& name) const {
    if (auto it = values_.find(name); it != values_.end()) return it->second;
    const spec& s = find(name);
    if (s.opt.default_value.empty()) fail("missing " + (s.is_positional ? "the argument " + name : name + " " + s.metavar));
    return s.opt.default_value;
  }
  std::int64_t integer(const std::string& name, std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX) const {
    const std::string v = get(name);
    std::size_t used = 0;
    std::int64_t x = 0;
    try {
      x = std::stoll(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size() || v.empty()) fail(name + " expects an integer, got '" + v + "'");
    if (x < min || x > max)
      fail(name + " must be " + (max == INT64_MAX ? ">= " + std::to_string(min) : "in [" + std::to_string(min) + ", " + std::to_string(max) + "]") +
           ", got " + v);
    return x;
  }
  double real(const std::string& name) const {
    const std::string v = get(name);
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size() || v.empty()) fail(name + " expects a number, got '" + v + "'");
    return x;
  }
  // "HxW" (e.g. 120x160) -> {H, W}, both > 0.
  std::pair<std::int64_t, std::int64_t> size(const std::string& name) const {
    const std::string v = get(name);
    const auto x = v.find_first_of("xX");
    auto num = [&](const std::string& s) -> std::int64_t {
      if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) || s.size() > 9)
        fail(name + " expects HxW (e.g. 120x160), got '" + v + "'");
      return std::stoll(s);
    };
    if (x == std::string::npos) fail(name + " expects HxW (e.g. 120x160), got '" + v + "'");
    const auto h = num(v.substr(0, x)), w = num(v.substr(x + 1));
    if (h <= 0 || w <= 0) fail(name + " expects a positive HxW, got '" + v + "'");
    return {h, w};
  }
  // One of `choices`.
  std::string choice(const std::string& name, std::initializer_list<std::string_view> choices) const {
    const std::string v = get(name);
    std::string all;
    for (auto c : choices) {
      if (v == c) return v;
      all += (all.empty() ? "" : ", ") + std::string(c);
    }
    fail(name + " must be one of " + all + ", got '" + v + "'");
  }
  // A path that must name an existing regular file.
  std::filesystem::path existing_file(const std::string& name) const {
    const std::filesystem::path p = get(name);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec))
      fail(name + ": '" + p.string() + "' " + (std::filesystem::exists(p, ec) ? "is not a file" : "does not exist"));
    return p;
  }
  std::filesystem::path existing_dir(const std::string& name) const {
    const std::filesystem::path p = get(name);
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec))
      fail(name + ": '" + p.string() + "' " + (std::filesystem::exists(p, ec) ? "is not a folder" : "does not exist"));
    return p;
  }

  std::string usage() const;
  [[noreturn]] void fail(const std::string& why) const {
    throw usage_error("kpt " + command_ + ": " + why + " (see kpt " + command_ + " --help)");
  }

 private:
  struct spec {
    std::string name, metavar, help;
    option_spec opt;
    bool is_toggle;
    bool is_positional = false;
  };
  const spec& find(const std::string& name) const {
    for (const auto& s : specs_)
      if (s.name == name) return s;
    throw std::logic_error("kpt " + command_ + ": flag " + name + " was never declared");
  }

  std::string command_, summary_;
  std::vector<spec> specs_;
  std::map<std::string, std::string> values_;
};

inline std::string flags::usage() const {
  std::string u = "usage: kpt " + command_;
  for (const auto& s : specs_) {
    std::string part = s.is_positional ? s.name : s.name + (s.is_toggle ? "" : " " + s.metavar);
    u += " " + (s.opt.required ? part : "[" + part + "]");
  }
  u += "\n\n" + summary_ + "\n\narguments and flags:\n";
  std::size_t width = 6;
  auto left_of = [](const spec& s) { return s.is_toggle || s.is_positional ? s.name : s.name + " " + s.metavar; };
  for (const auto& s : specs_) width = std::max(width, left_of(s).size());
  for (const auto& s : specs_) {
    const std::string left = left_of(s);
    u += "  " + left + std::string(width + 2 - left.size(), ' ') + s.help;
    if (s.opt.required) u += " (required)";
    else if (!s.opt.default_value.empty()) u += " (default " + s.opt.default_value + ")";
    u += "\n";
  }
  u += "  --help" + std::string(width + 2 - 6, ' ') + "print this help\n";
  return u;
}

inline bool flags::parse(std::span<const std::string> args, std::ostream& out) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--help" || a == "-h") {
      out << usage();
      return false;
    }
    if (a.rfind("--", 0) != 0) {  // the next positional argument
      const spec* p = nullptr;
      for (const auto& sp : specs_)
        if (sp.is_positional && !values_.count(sp.name)) {
          p = &sp;
          break;
        }
      if (!p) fail("unexpected argument '" + a + "'");
      values_[p->name] = a;
      continue;
    }
    std::string value;
    bool inline_value = false;
    if (const auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      inline_value = true;
    }
    const spec* s = nullptr;
    for (const auto& sp : specs_)
      if (sp.name == a && !sp.is_positional) s = &sp;
    if (!s) fail("unknown flag '" + a + "'");
    if (values_.count(a)) fail("flag " + a + " given twice");
    if (s->is_toggle) {
      if (inline_value) fail("flag " + a + " takes no value");
      values_[a] = "1";
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) fail("flag " + a + " needs a value " + s->metavar);
      value = args[++i];
    }
    values_[a] = value;
  }
  for (const auto& s : specs_)
    if (s.opt.required && !values_.count(s.name))
      fail("missing " + (s.is_positional ? "the argument " + s.name : s.name + " " + s.metavar));
  return true;
}

inline bool flags::parse(std::span<const std::string> args) { return parse(args, std::cout); }

}  // namespace kpt::cli
