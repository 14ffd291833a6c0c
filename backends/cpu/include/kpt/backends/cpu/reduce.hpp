#pragma once
// (placeholder: reduce kernels not written yet)
#include "kpt/core/backend.hpp"
