#pragma once
// (placeholder: pointwise kernels not written yet)
#include "kpt/core/backend.hpp"
