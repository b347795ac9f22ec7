// Package simd is where the C kernels of w2w, recsys and embed/hdbscan learn which x86
// vector units the CPU has, and where the C they share lives.
//
// # Features
//
// [AVX2], [FMA], [F16C] and [AVX512F] (with [AVX512BW], [AVX512DQ] and [AVX512VL]) are read
// once, when the program starts, from CPUID through golang.org/x/sys/cpu, which also checks
// that the operating system saves the wider register state (ymm for AVX and AVX2, opmask and
// zmm for AVX-512). They are all false on other architectures. Each package derives its
// kernel level from them and keeps its own switch that tests use to run the slower levels.
// GODEBUG=cpu.avx512f=off (or cpu.avx2=off, …), read by golang.org/x/sys/cpu, hides a feature
// from every package at once.
//
// # Shared C
//
// Compiled C cannot be shared between Go packages, so the C that several packages need is
// written once as static inline functions in the headers of this folder, and each package's
// .c file includes them by a relative path ("../internal/simd/f32.h"). [Headers] embeds
// them: a change to a header changes this package, which the including packages import, so
// the build cache compiles them again.
//
//   - f32.h: float32 dot products and squared Euclidean distances (AVX-512F, AVX2+FMA and
//     plain C), used by recsys and embed/hdbscan.
package simd

import (
	"embed"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/cpu"
)

// Features of the CPU, with the operating system's support for their register state.
var (
	// AVX2 is set when the CPU runs AVX2 and the system saves the ymm registers.
	AVX2 = cpu.X86.HasAVX2
	// FMA is set when the CPU runs the fused multiply-add instructions (FMA3) and the system
	// saves the ymm registers.
	FMA = cpu.X86.HasFMA && cpu.X86.HasAVX
	// F16C is set when the CPU converts between half and single precision in vectors and the
	// system saves the ymm registers.
	// (golang.org/x/sys/cpu reports F16C only from v0.49, which needs Go 1.26; cpuid reads
	// the same CPUID bit.)
	F16C = cpuid.CPU.Supports(cpuid.F16C) && cpu.X86.HasAVX
	// AVX512F is set when the CPU runs AVX-512 Foundation and the system saves the opmask and
	// zmm registers.
	AVX512F = cpu.X86.HasAVX512F
	// AVX512BW, AVX512DQ and AVX512VL are set when AVX512F is and the CPU runs the byte and
	// word, doubleword and quadword, and vector length extensions.
	AVX512BW = cpu.X86.HasAVX512BW
	AVX512DQ = cpu.X86.HasAVX512DQ
	AVX512VL = cpu.X86.HasAVX512VL
)

// Headers holds the shared C headers (see the package documentation).
//
//go:embed *.h
var Headers embed.FS
