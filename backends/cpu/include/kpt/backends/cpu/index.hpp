#pragma once
// (placeholder: index kernels not written yet)
#include "kpt/core/backend.hpp"
