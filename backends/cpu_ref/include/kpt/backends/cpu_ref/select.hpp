#pragma once
// (placeholder: select kernels not written yet)
#include "kpt/core/backend.hpp"
