// `kpt plot` end to end: the SVG of a real (3-step) training run is well-formed, has one curve and
// one legend entry per loss term, log or linear axes, smoothing; hand-written logs with other loss
// terms; and the errors for a missing run, an empty or a corrupt log (with the line number).
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cli_support.hpp"

using namespace kpt::cli_test;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

// XML-ish well-formedness: every element closed in order, attributes quoted, one root <svg>.
// Returns the problem, or "" when none.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> open;
  std::size_t roots = 0;
  const std::regex tag(R"(<(/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(/?)>)");
  std::size_t pos = s.find("?>");
  if (s.rfind("<?xml", 0) != 0 || pos == std::string::npos) return "no XML declaration";
  pos += 2;
  while (true) {
    const auto lt = s.find('<', pos);
    if (lt == std::string::npos) break;
    std::smatch m;
    const std::string rest = s.substr(lt, std::min<std::size_t>(s.size() - lt, 100000));
    if (!std::regex_search(rest, m, tag, std::regex_constants::match_continuous))
      return "malformed tag at offset " + std::to_string(lt) + ": " + s.substr(lt, 60);
    const bool closing = m[1].length() > 0, self = m[4].length() > 0;
    const std::string name = m[2];
    if (closing) {
      if (open.empty() || open.back() != name) return "unexpected </" + name + ">";
      open.pop_back();
    } else if (!self) {
      if (open.empty()) ++roots;
      open.push_back(name);
    } else if (open.empty()) {
      ++roots;
    }
    pos = lt + std::size_t(m[0].length());
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  if (roots != 1) return std::to_string(roots) + " root elements";
  return {};
}

void write_log(const fs::path& run, const std::string& text) {
  fs::create_directories(run);
  std::ofstream(run / "log.jsonl") << text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plot_cli)

BOOST_AUTO_TEST_CASE(plots_a_training_run) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("plot_cli");
  const auto log = d.path / "log";
  const auto run = d.path / "run";
  BOOST_TEST_REQUIRE(run_kpt("train --model magicpoint --steps 3 --batch-size 2 --size 64x64 --canvas 64x64 --log-every 1 "
                             "--threads 1 --out " + quote(run),
                             log) == 0,
                     read_text(log));
  // The loss terms of a MagicPoint log: loss and detector.
  BOOST_TEST_REQUIRE(run_kpt("plot " + quote(run), log) == 0, read_text(log));
  const std::string svg = read_text(run / "loss.svg");  // the default --out
  BOOST_TEST(xml_problem(svg) == "");
  BOOST_TEST(svg.find("<svg") != std::string::npos);
  BOOST_TEST(count(svg, "class=\"curve\"") == 2u);
  BOOST_TEST(svg.find(">loss</text>") != std::string::npos);
  BOOST_TEST(svg.find(">detector</text>") != std::string::npos);
  BOOST_TEST(svg.find(">lr</text>") == std::string::npos);  // not a loss term
  BOOST_TEST(svg.find("(log scale)") != std::string::npos);
  BOOST_TEST(svg.find(">step</text>") != std::string::npos);  // x axis label
  BOOST_TEST(log_has(log, "3 logged steps"));
  // Each curve has a point per logged step: M + 2 L.
  const std::regex path(R"(class="curve" d="M[^"L]+ L[^"L]+ L[^"L]+")");
  BOOST_TEST(std::distance(std::sregex_iterator(svg.begin(), svg.end(), path), std::sregex_iterator()) == 2);

  const auto lin = d.path / "lin.svg";
  BOOST_TEST_REQUIRE(run_kpt("plot --linear --out " + quote(lin) + " " + quote(run), log) == 0);
  const std::string l = read_text(lin);
  BOOST_TEST(xml_problem(l) == "");
  BOOST_TEST(l.find("(log scale)") == std::string::npos);
  BOOST_TEST(count(l, "class=\"curve\"") == 2u);
}

BOOST_AUTO_TEST_CASE(every_loss_term_smoothing_and_non_positive_values) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("plot_cli_terms");
  const auto log = d.path / "log", run = d.path / "run";
  std::string text;
  for (int s = 1; s <= 20; ++s)
    text += "{\"step\":" + std::to_string(s) + ",\"loss\":" + std::to_string(3.0 / s) + ",\"location\":" +
            std::to_string(1.0 / s) + ",\"descriptor\":0.5,\"usp\":" + std::to_string(0.3 - 0.05 * s) +
            ",\"io\":null,\"epoch\":0,\"lr\":0.001,\"images_per_s\":7.5,\"seconds\":" + std::to_string(s) + ",\"note\":\"x<y&z\"}\n";
  write_log(run, text);
  const auto out = d.path / "a.svg";
  BOOST_TEST_REQUIRE(run_kpt("plot " + quote(run) + " --out " + quote(out), log) == 0, read_text(log));
  std::string svg = read_text(out);
  BOOST_TEST(xml_problem(svg) == "");
  // loss, location, descriptor, usp (io is null throughout: in the legend, nothing to draw).
  BOOST_TEST(count(svg, "class=\"curve\"") == 4u);
  for (const char* k : {">loss<", ">location<", ">descriptor<", ">usp<", ">io (nothing to draw)<"})
    BOOST_TEST(svg.find(k) != std::string::npos, k);
  for (const char* k : {">lr<", ">images_per_s<", ">seconds<", ">epoch<", ">note<"}) BOOST_TEST(svg.find(k) == std::string::npos, k);
  // usp goes negative: those points cannot be drawn on a log axis, and the user is told.
  BOOST_TEST(log_has(log, "'usp'"));
  BOOST_TEST(log_has(log, "--linear"));
  BOOST_TEST_REQUIRE(run_kpt("plot " + quote(run) + " --out " + quote(out) + " --linear --smooth 5", log) == 0, read_text(log));
  svg = read_text(out);
  BOOST_TEST(xml_problem(svg) == "");
  BOOST_TEST(count(svg, "class=\"curve\"") == 8u);  // raw (faint) + smoothed
  BOOST_TEST(count(svg, "stroke-opacity") == 4u);
  BOOST_TEST(svg.find("mean of 5") != std::string::npos);
  // --keys picks curves; an unknown key lists the ones there are.
  BOOST_TEST_REQUIRE(run_kpt("plot " + quote(run) + " --out " + quote(out) + " --keys usp,loss --linear", log) == 0, read_text(log));
  svg = read_text(out);
  BOOST_TEST(count(svg, "class=\"curve\"") == 2u);
  BOOST_TEST(svg.find(">location<") == std::string::npos);
  BOOST_TEST(svg.find(">usp<") != std::string::npos);
  BOOST_TEST(run_kpt("plot " + quote(run) + " --keys los", log) == 2);
  BOOST_TEST(log_has(log, "'los'"));
  BOOST_TEST(log_has(log, "loss, location"));
}

BOOST_AUTO_TEST_CASE(errors_name_the_problem) {
  if (!fs::exists(kpt_program())) return;
  temp_dir d("plot_cli_errors");
  const auto log = d.path / "log";
  // No run folder.
  BOOST_TEST(run_kpt("plot " + quote(d.path / "nope"), log) == 2);
  BOOST_TEST(log_has(log, "nope"));
  BOOST_TEST(log_has(log, "does not exist"));
  BOOST_TEST(run_kpt("plot --out x.svg", log) == 2);
  BOOST_TEST(log_has(log, "missing the argument RUN"));
  // A folder without a log.
  fs::create_directories(d.path / "bare");
  BOOST_TEST(run_kpt("plot " + quote(d.path / "bare"), log) == 2);
  BOOST_TEST(log_has(log, "log.jsonl"));
  // An empty log.
  write_log(d.path / "empty", "");
  BOOST_TEST(run_kpt("plot " + quote(d.path / "empty"), log) == 2);
  BOOST_TEST(log_has(log, "no logged step"));
  // A corrupt line (a run cut off while writing): named by its number, nothing written.
  write_log(d.path / "cut", "{\"step\":1,\"loss\":2.0}\n{\"step\":2,\"loss\":1.5}\n\n{\"step\":3,\"lo");
  BOOST_TEST(run_kpt("plot " + quote(d.path / "cut"), log) == 2);
  BOOST_TEST(log_has(log, "line 4"));
  BOOST_TEST(!fs::exists(d.path / "cut" / "loss.svg"));
  write_log(d.path / "nostep", "{\"loss\":2.0}\n");
  BOOST_TEST(run_kpt("plot " + quote(d.path / "nostep"), log) == 2);
  BOOST_TEST(log_has(log, "line 1"));
  BOOST_TEST(log_has(log, "\"step\""));
  // Bad flags.
  write_log(d.path / "ok", "{\"step\":1,\"loss\":2.0}\n");
  BOOST_TEST(run_kpt("plot " + quote(d.path / "ok") + " --smooth 0", log) == 2);
  BOOST_TEST(log_has(log, "--smooth"));
  BOOST_TEST(run_kpt("plot " + quote(d.path / "ok") + " --out " + quote(d.path / "no" / "dir" / "x.svg"), log) == 2);
  BOOST_TEST(log_has(log, "does not exist"));
  // A single logged step still plots (a point: degenerate axes must not divide by zero).
  BOOST_TEST(run_kpt("plot " + quote(d.path / "ok"), log) == 0);
  BOOST_TEST(xml_problem(read_text(d.path / "ok" / "loss.svg")) == "");
  BOOST_TEST(read_text(d.path / "ok" / "loss.svg").find("nan") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
