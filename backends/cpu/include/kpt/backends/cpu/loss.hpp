#pragma once
// (placeholder: loss kernels not written yet)
#include "kpt/core/backend.hpp"
