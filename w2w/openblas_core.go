//go:build openblas && cgo && amd64

package w2w

// #include <stdlib.h>
// #include <string.h>
// #include <strings.h>
// #include <cblas.h>
// // Present in OpenBLAS builds with DYNAMIC_ARCH (Debian's): the kernel set is chosen once,
// // when the library loads, from the CPU model or the OPENBLAS_CORETYPE variable.
// extern void gotoblas_dynamic_init(void) __attribute__((weak));
// extern void gotoblas_dynamic_quit(void) __attribute__((weak));
//
// // w2w_blas_retarget re-selects OpenBLAS's kernels when its CPU detection fell back to
// // the generic SSE3 set ("Prescott") on a CPU with AVX-512 or AVX2+FMA: OpenBLAS 0.3.21 does
// // not know recent Xeon models (family 6, model 207 among them) and would run its slowest
// // kernels there. It does nothing when the user set OPENBLAS_CORETYPE, when detection
// // worked, or when the library cannot re-select. It returns the core chosen or NULL.
// static const char *w2w_blas_retarget(void) {
// 	const char *cur = openblas_get_corename();
// 	if (getenv("OPENBLAS_CORETYPE") != NULL || cur == NULL || strcasecmp(cur, "Prescott") != 0) return NULL;
// 	if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return NULL;
// 	__builtin_cpu_init();
// 	const char *want = NULL;
// 	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
// 	    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) want = "SkylakeX";
// 	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) want = "Haswell";
// 	if (want == NULL) return NULL;
// 	setenv("OPENBLAS_CORETYPE", want, 1);
// 	gotoblas_dynamic_quit();
// 	gotoblas_dynamic_init();
// 	unsetenv("OPENBLAS_CORETYPE");
// 	return want;
// }
import "C"

// retargetOpenBLAS runs once, before any OpenBLAS call of the package: where OpenBLAS did not
// recognise the CPU and fell back to its generic SSE3 kernels, it selects the AVX-512
// (SkylakeX) or AVX2 (Haswell) kernel set the CPU supports, which runs the float32 products
// of a PCA about six times faster on an AVX-512 Xeon (measured with numpy on the same
// library). OPENBLAS_CORETYPE, when set, is left in charge.
func retargetOpenBLAS() string {
	if p := C.w2w_blas_retarget(); p != nil {
		return C.GoString(p)
	}
	return ""
}
