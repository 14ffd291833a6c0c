#pragma once
// Everything needed to compute with kpt::tensor<T, kpt::cpu_ref>: the reference kernels.
#include "kpt/backends/cpu_ref/elementwise.hpp"
