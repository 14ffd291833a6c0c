#pragma once
// (placeholder: pool kernels not written yet)
#include "kpt/core/backend.hpp"
