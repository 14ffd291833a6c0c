#pragma once
// (placeholder: distance kernels not written yet)
#include "kpt/core/backend.hpp"
