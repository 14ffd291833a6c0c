#pragma once
// (placeholder: softmax kernels not written yet)
#include "kpt/core/backend.hpp"
