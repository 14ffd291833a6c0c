// kpt: the command line of the kpt library. Subcommands live in tools/kpt/cmd_<name>.cpp and
// register themselves (cli.hpp); this file only dispatches and maps errors to exit codes.
#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "kpt/core/error.hpp"

namespace {

void print_help(std::ostream& out) {
  auto cmds = kpt::cli::registry();
  std::sort(cmds.begin(), cmds.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  out << "usage: kpt <command> [flags]   (kpt <command> --help for its flags)\n\ncommands:\n";
  std::size_t width = 0;
  for (const auto& c : cmds) width = std::max(width, c.name.size());
  for (const auto& c : cmds) out << "  " << c.name << std::string(width + 2 - c.name.size(), ' ') << c.summary << "\n";
  out << "\nenvironment:\n"
         "  KPT_NO_BLOCK_CACHE=1 unmap freed buffers of 1 MiB and more instead of keeping them for\n"
         "                       reuse by size (slower training steps: docs/performance.md)\n"
         "  KPT_EXACT_CONV=1     3x3 convolutions as direct sums instead of Winograd F(4x4, 3x3): about\n"
         "                       2x slower, rounding ~4e-7 instead of ~3e-6 of the output rms\n"
         "  KPT_CONV_BF16=winograd  bf16 inference: the 3x3 layers with 64+ channels run Winograd's\n"
         "                       products in bfloat16, on vdpbf16ps with AVX512-BF16 (about 1.2x faster\n"
         "                       networks, ~1.6 % rms change of the outputs; bench/bf16_accuracy.py),\n"
         "                       emulated (slower) elsewhere; =winograd-emulated always emulates;\n"
         "                       =1 rounds every convolution's input and weights instead (emulated)\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_help(std::cerr);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help(std::cout);
    return 0;
  }
  if (args[0] == "--version") {
    std::cout << "kpt " << KPT_VERSION << "\n";  // KPT_VERSION: set by tools/CMakeLists.txt
    return 0;
  }
  const auto& cmds = kpt::cli::registry();
  const auto it = std::find_if(cmds.begin(), cmds.end(), [&](const auto& c) { return c.name == args[0]; });
  if (it == cmds.end()) {
    std::cerr << "kpt: unknown command '" << args[0] << "' (see kpt --help)\n";
    return 2;
  }
  try {
    return it->run(std::span<const std::string>(args).subspan(1));
  } catch (const kpt::cli::usage_error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const kpt::io_error& e) {
    std::cerr << "kpt " << args[0] << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "kpt " << args[0] << ": error: " << e.what() << "\n";
    return 1;
  }
}
