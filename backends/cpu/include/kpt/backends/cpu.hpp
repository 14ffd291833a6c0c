#pragma once
// Everything needed to compute with kpt::tensor<T, kpt::cpu>: kernel declarations (compiled in
// kpt::cpu), the thread limit, the weight cache's capacity, the instruction set and bf16
// inference. Link kpt::cpu.
#include "kpt/backends/cpu/elementwise.hpp"
#include "kpt/backends/cpu/pointwise.hpp"
#include "kpt/backends/cpu/reduce.hpp"
#include "kpt/backends/cpu/softmax.hpp"
#include "kpt/backends/cpu/distance.hpp"
#include "kpt/backends/cpu/conv.hpp"
#include "kpt/backends/cpu/matmul.hpp"
#include "kpt/backends/cpu/pool.hpp"
#include "kpt/backends/cpu/norm.hpp"
#include "kpt/backends/cpu/dropout.hpp"
#include "kpt/backends/cpu/shuffle.hpp"
#include "kpt/backends/cpu/shape.hpp"
#include "kpt/backends/cpu/index.hpp"
#include "kpt/backends/cpu/select.hpp"
#include "kpt/backends/cpu/loss.hpp"
#include "kpt/backends/cpu/grid_sample.hpp"
#include "kpt/backends/cpu/threads.hpp"
#include "kpt/backends/cpu/weight_cache.hpp"
#include "kpt/backends/cpu/arch.hpp"
#include "kpt/backends/cpu/bf16.hpp"
