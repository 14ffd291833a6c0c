#pragma once
// (placeholder: conv kernels not written yet)
#include "kpt/core/backend.hpp"
