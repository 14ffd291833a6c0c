#pragma once
// Optimiser state in safetensors checkpoints (docs/formats.md, "checkpoint optimiser state").
//
//   io::safetensors_writer w;
//   nn::visit_params(net, [&](const std::string& n, auto& t) { w.add(n, t); });   // the weights
//   optim::save_state(w, opt);                                                    // + the optimiser
//   w.write("ckpt.safetensors");
//   ...
//   io::safetensors_file f("ckpt.safetensors");
//   optim::load_state(f, opt);   // same parameters (names, shapes) and groups as when saved
//
// Keys: "<kind>.<param name>.<field>" per parameter (adam: exp_avg, exp_avg_sq, max_exp_avg_sq
// with amsgrad, step; sgd: momentum_buffer with momentum, step), "<kind>.param_groups.<i>.lr"
// and ".initial_lr" (F64 scalars) per group, and metadata "<kind>.num_groups". State tensors
// are stored in their own dtype (F32 for float), so a resumed run continues bit-exactly.
#include <set>
#include <string>
#include <vector>

#include "kpt/io/safetensors.hpp"

namespace kpt::optim {

template <class Optimizer>
void save_state(io::safetensors_writer& w, Optimizer& opt) {
  const std::string kind = Optimizer::kind_name;
  opt.visit_state([&](const std::string& name, const auto& t) { w.add(name, t); });
  for (std::size_t g = 0; g < opt.num_groups(); ++g) {
    const std::string p = kind + ".param_groups." + std::to_string(g) + ".";
    w.add(p + "lr", tensor<double, cpu_ref>::scalar(opt.lr(g)));
    w.add(p + "initial_lr", tensor<double, cpu_ref>::scalar(opt.initial_lr(g)));
  }
  w.set_metadata(kind + ".num_groups", std::to_string(opt.num_groups()));
}

// Restores the state saved by save_state into an optimiser built over the same parameters.
// Keys of other kinds (the weights, ...) are ignored; any missing or mis-shaped state key is an
// io_error listing them all by name. Nothing changes unless everything matches.
template <class Optimizer>
void load_state(const io::safetensors_file& f, Optimizer& opt) {
  const std::string kind = Optimizer::kind_name;
  const auto meta = f.metadata().find(kind + ".num_groups");
  require<io_error>(meta != f.metadata().end(), "load_state: '", f.path().string(), "' holds no ", kind,
                    " optimiser state (no metadata '", kind, ".num_groups'); it was saved without one or by "
                    "another optimiser");
  require<io_error>(meta->second == std::to_string(opt.num_groups()), "load_state: '", f.path().string(), "' holds ",
                    kind, " state for ", meta->second, " parameter groups but the optimiser has ", opt.num_groups(),
                    "; build the optimiser with the same groups as the run that saved it");
  io::state_loader l;
  opt.visit_state([&](const std::string& name, auto& t) { l.bind(name, t); });
  std::vector<tensor<double, cpu_ref>> lrs;
  for (std::size_t g = 0; g < opt.num_groups(); ++g) {
    const std::string p = kind + ".param_groups." + std::to_string(g) + ".";
    lrs.push_back(tensor<double, cpu_ref>::zeros({}));
    l.bind(p + "lr", lrs.back());
    lrs.push_back(tensor<double, cpu_ref>::zeros({}));
    l.bind(p + "initial_lr", lrs.back());
  }
  // Keys of this kind that name no parameter of the optimiser are an error (a different model);
  // all other keys (the weights, ...) are not ours to check.
  std::set<std::string> ours;
  opt.visit_state([&](const std::string& name, auto&) { ours.insert(name); });
  std::vector<std::string> extra;
  for (const auto& t : f.tensors())
    if (t.name.starts_with(kind + ".") && !t.name.starts_with(kind + ".param_groups.") && !ours.count(t.name))
      extra.push_back(t.name);
  require<io_error>(extra.empty(), "load_state: '", f.path().string(), "' holds ", kind,
                    " state for parameters this optimiser does not have: ", io::st_detail::name_list(extra),
                    "; build the optimiser over the same named parameters as the run that saved it");
  l.load(f, {.allow_unexpected = true});
  for (std::size_t g = 0; g < opt.num_groups(); ++g) {
    opt.options(g).lr = lrs[2 * g].item();
    opt.set_initial_lr(g, lrs[2 * g + 1].item());
  }
}

}  // namespace kpt::optim
