#pragma once
// cli::svg_line_plot: curves y(x) as a self-contained SVG (axes, ticks, grid, labels, legend),
// with a linear or logarithmic y axis. What `kpt plot` draws; no dependency beyond the standard
// library, so the plot opens in any browser.
//
//   std::vector<cli::plot_series> s = {{"loss", xs, ys}};
//   std::string svg = cli::svg_line_plot(s, {.title = "runs/mp", .log_y = true});
//
// In log mode the points with y <= 0 (or not finite) cannot be drawn: they break the curve and are
// counted in plot_series::dropped, so the caller can say so.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace kpt::cli {

struct plot_series {
  std::string name;
  std::vector<double> x, y;  // same length; NaN y = a gap (no value at that x)
  double opacity = 1.0;
  double width = 1.6;  // stroke width (a wide one drawn first stays visible under equal curves)
  bool in_legend = true;
  int colour = -1;  // palette index; -1: the series' own position
  mutable std::size_t dropped = 0;  // points not drawn (log axis and y <= 0, or not finite)
};

struct plot_options {
  std::string title;
  std::string x_label = "step";
  std::string y_label = "loss";
  bool log_y = true;
  int width = 900, height = 520;
};

namespace svg_detail {

inline std::string num(double v, const char* fmt = "%.2f") {
  char b[48];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

inline std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// A tick label: short, no float noise (0.30000000000000004 -> 0.3).
inline std::string label(double v) {
  if (std::abs(v) < 1e-12) return "0";
  return num(v, "%.4g");
}

// 1, 2 or 5 times a power of ten, about range / target.
inline double nice_step(double range, int target) {
  const double raw = range / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

struct axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;  // in data units
  double to_unit(double v) const {  // [0, 1] along the axis
    return log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
  }
};

inline axis linear_axis(double lo, double hi, int target) {
  axis a;
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad, hi += pad;
  }
  const double step = nice_step(hi - lo, target);
  a.lo = std::floor(lo / step) * step;
  a.hi = std::ceil(hi / step) * step;
  for (double t = a.lo; t <= a.hi + step * 1e-9; t += step) a.ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return a;
}

// Decades; with at most two of them also 2x and 5x, so a short range still has labels.
inline axis log_axis(double lo, double hi) {
  axis a;
  a.log = true;
  int e0 = int(std::floor(std::log10(lo))), e1 = int(std::ceil(std::log10(hi)));
  if (e1 <= e0) e1 = e0 + 1;
  a.lo = std::pow(10.0, e0);
  a.hi = std::pow(10.0, e1);
  for (int e = e0; e <= e1; ++e) {
    const double d = std::pow(10.0, e);
    a.ticks.push_back(d);
    if (e1 - e0 <= 2 && e < e1) {
      a.ticks.push_back(2 * d);
      a.ticks.push_back(5 * d);
    }
  }
  std::sort(a.ticks.begin(), a.ticks.end());
  return a;
}

// Tableau 10: distinct and readable on white.
inline const char* colour(std::size_t i) {
  static const char* p[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return p[i % 10];
}

}  // namespace svg_detail

inline std::string svg_line_plot(const std::vector<plot_series>& series, const plot_options& o) {
  using namespace svg_detail;
  auto drawable = [&](double y) { return std::isfinite(y) && (!o.log_y || y > 0); };
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series) {
    s.dropped = 0;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!drawable(s.y[i]) || !std::isfinite(s.x[i])) {
        s.dropped += !std::isnan(s.y[i]);  // NaN marks a gap (a step without this value), not a loss
        continue;
      }
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  }
  if (!(x1 >= x0)) x0 = 0, x1 = 1, y0 = o.log_y ? 0.1 : 0, y1 = 1;  // nothing drawable: empty axes
  const axis ax = linear_axis(x0, x1, 8);
  const axis ay = o.log_y ? log_axis(y0, y1) : linear_axis(y0, y1, 6);

  const double left = 80, right = 190, top = 44, bottom = 56;
  const double W = o.width, H = o.height, pw = W - left - right, ph = H - top - bottom;
  auto px = [&](double x) { return left + ax.to_unit(x) * pw; };
  auto py = [&](double y) { return top + (1 - ay.to_unit(y)) * ph; };

  std::string s;
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(W, "%.0f") + "\" height=\"" + num(H, "%.0f") +
       "\" viewBox=\"0 0 " + num(W, "%.0f") + " " + num(H, "%.0f") + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<defs><clipPath id=\"plot-area\"><rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) +
       "\" height=\"" + num(ph) + "\"/></clipPath></defs>\n";
  if (!o.title.empty())
    s += "<text x=\"" + num(left + pw / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" + escape(o.title) + "</text>\n";

  // Grid and ticks.
  s += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n";
  for (double t : ax.ticks) s += "<line x1=\"" + num(px(t)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(px(t)) + "\" y2=\"" + num(top + ph) + "\"/>\n";
  for (double t : ay.ticks) s += "<line x1=\"" + num(left) + "\" y1=\"" + num(py(t)) + "\" x2=\"" + num(left + pw) + "\" y2=\"" + num(py(t)) + "\"/>\n";
  s += "</g>\n<g class=\"axes\" stroke=\"black\" stroke-width=\"1\">\n";
  s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) + "\" fill=\"none\"/>\n";
  for (double t : ax.ticks) s += "<line x1=\"" + num(px(t)) + "\" y1=\"" + num(top + ph) + "\" x2=\"" + num(px(t)) + "\" y2=\"" + num(top + ph + 5) + "\"/>\n";
  for (double t : ay.ticks) s += "<line x1=\"" + num(left - 5) + "\" y1=\"" + num(py(t)) + "\" x2=\"" + num(left) + "\" y2=\"" + num(py(t)) + "\"/>\n";
  s += "</g>\n<g class=\"tick-labels\" fill=\"black\">\n";
  for (double t : ax.ticks)
    s += "<text x=\"" + num(px(t)) + "\" y=\"" + num(top + ph + 19) + "\" text-anchor=\"middle\">" + label(t) + "</text>\n";
  for (double t : ay.ticks)
    s += "<text x=\"" + num(left - 8) + "\" y=\"" + num(py(t) + 4) + "\" text-anchor=\"end\">" + label(t) + "</text>\n";
  s += "</g>\n";
  s += "<text class=\"x-label\" x=\"" + num(left + pw / 2) + "\" y=\"" + num(H - 14) + "\" text-anchor=\"middle\">" +
       escape(o.x_label) + "</text>\n";
  s += "<text class=\"y-label\" transform=\"translate(18," + num(top + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       escape(o.y_label + (o.log_y ? " (log scale)" : "")) + "</text>\n";

  // Curves: one path each, broken where a value cannot be drawn.
  std::vector<bool> empty(series.size(), true);  // nothing drawable: said in the legend
  s += "<g class=\"curves\" clip-path=\"url(#plot-area)\" fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n";
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& c = series[k];
    std::string d;
    std::size_t run = 0;  // points in the current piece; a lone point becomes a round dot ("l0 0")
    auto end_piece = [&] {
      if (run == 1) d += " l0 0";
      run = 0;
    };
    for (std::size_t i = 0; i < c.x.size() && i < c.y.size(); ++i) {
      if (!drawable(c.y[i]) || !std::isfinite(c.x[i])) {
        end_piece();
        continue;
      }
      d += (run > 0 ? " L" : (d.empty() ? "M" : " M")) + num(px(c.x[i])) + " " + num(py(c.y[i]));
      ++run;
    }
    end_piece();
    if (d.empty()) continue;
    empty[k] = false;
    const std::size_t col = c.colour >= 0 ? std::size_t(c.colour) : k;
    s += "<path class=\"curve\" d=\"" + d + "\" stroke=\"" + colour(col) + "\" stroke-width=\"" + num(c.width) + "\"" +
         (c.opacity < 1 ? " stroke-opacity=\"" + num(c.opacity) + "\"" : std::string()) + "><title>" + escape(c.name) +
         "</title></path>\n";
  }
  s += "</g>\n";

  // Legend, right of the plot.
  s += "<g class=\"legend\">\n";
  double ly = top + 10;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& c = series[k];
    if (!c.in_legend) continue;
    const std::size_t col = c.colour >= 0 ? std::size_t(c.colour) : k;
    s += "<line x1=\"" + num(left + pw + 14) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(left + pw + 40) + "\" y2=\"" + num(ly) +
         "\" stroke=\"" + colour(col) + "\" stroke-width=\"" + num(std::max(2.5, c.width)) + "\"/>\n";
    s += "<text x=\"" + num(left + pw + 46) + "\" y=\"" + num(ly + 4) + "\">" + escape(c.name) + (empty[k] ? " (nothing to draw)" : "") + "</text>\n";
    ly += 20;
  }
  s += "</g>\n</svg>\n";
  return s;
}

}  // namespace kpt::cli
