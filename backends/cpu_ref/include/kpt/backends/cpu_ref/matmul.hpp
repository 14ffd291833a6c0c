#pragma once
// (placeholder: matmul kernels not written yet)
#include "kpt/core/backend.hpp"
