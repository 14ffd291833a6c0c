#pragma once
// (placeholder: shuffle kernels not written yet)
#include "kpt/core/backend.hpp"
