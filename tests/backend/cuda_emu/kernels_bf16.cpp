// cuda/kernels_bf16.cu compiled for the CPU through cuda/emu.h (tests/backend/test_cuda_emu).
#define GT_CUDA_EMU 1
#include "../../../cuda/kernels_bf16.cu"
