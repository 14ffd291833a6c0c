#pragma once
// (placeholder: norm kernels not written yet)
#include "kpt/core/backend.hpp"
