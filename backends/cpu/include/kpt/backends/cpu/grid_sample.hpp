#pragma once
// (placeholder: grid_sample kernels not written yet)
#include "kpt/core/backend.hpp"
