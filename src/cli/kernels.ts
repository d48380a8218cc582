import type { GemmKernel } from '../nn/gemm.js';
import { createWasmGemmKernel, defaultGemmKernel, wasmSimdAvailable } from '../nn/wasm-gemm.js';

/** The kernel for scoring: WebAssembly SIMD when the runtime has it, else plain TypeScript. */
export function scoringKernel(): GemmKernel {
  return defaultGemmKernel();
}

/**
 * The kernel for training. Training packs new weights every step; the WASM kernel's packed
 * matrices live as long as the kernel, so a fresh kernel per step (a factory) keeps memory flat.
 */
export function trainingKernel(): GemmKernel | (() => GemmKernel) {
  return wasmSimdAvailable() ? () => createWasmGemmKernel() : defaultGemmKernel();
}
