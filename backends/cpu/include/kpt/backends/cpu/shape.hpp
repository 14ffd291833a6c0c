#pragma once
// (placeholder: shape kernels not written yet)
#include "kpt/core/backend.hpp"
