#pragma once
// Everything needed to compute with kpt::tensor<T, kpt::cpu>: kernel declarations (compiled in
// kpt::cpu) and the thread limit. Link kpt::cpu.
#include "kpt/backends/cpu/elementwise.hpp"
#include "kpt/backends/cpu/threads.hpp"
