#pragma once
// The number of threads the cpu backend's parallel loops use (oneTBB underneath).
namespace kpt {

// Limits every kpt::cpu parallel loop to n threads (n >= 1) until called again. The default is
// all hardware threads. Call it before starting work; it is not meant to change mid-op.
void set_num_threads(int n);
// The current limit.
int num_threads();

}  // namespace kpt
