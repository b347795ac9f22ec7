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
// // kernels there. want is the kernel set the CPU runs ("SkylakeX", "Haswell") or NULL. It
// // does nothing when the user set OPENBLAS_CORETYPE, when detection worked, or when the
// // library cannot re-select. It returns the core chosen or NULL.
// static const char *w2w_blas_retarget(const char *want) {
// 	const char *cur = openblas_get_corename();
// 	if (getenv("OPENBLAS_CORETYPE") != NULL || cur == NULL || strcasecmp(cur, "Prescott") != 0) return NULL;
// 	if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return NULL;
// 	if (want == NULL) return NULL;
// 	setenv("OPENBLAS_CORETYPE", want, 1);
// 	gotoblas_dynamic_quit();
// 	gotoblas_dynamic_init();
// 	unsetenv("OPENBLAS_CORETYPE");
// 	return want;
// }
import "C"

import "github.com/imagegem/imagegem-go/internal/simd"

// retargetOpenBLAS runs once, before any OpenBLAS call of the package: where OpenBLAS did not
// recognise the CPU and fell back to its generic SSE3 kernels, it selects the AVX-512
// (SkylakeX) or AVX2 (Haswell) kernel set the CPU supports, which runs the float32 products
// of a PCA about six times faster on an AVX-512 Xeon (measured with numpy on the same
// library). OPENBLAS_CORETYPE, when set, is left in charge.
func retargetOpenBLAS() string {
	var want *C.char
	switch {
	case simd.AVX512F && simd.AVX512BW && simd.AVX512VL && simd.AVX512DQ:
		want = skylakeX
	case simd.AVX2 && simd.FMA:
		want = haswell
	}
	if p := C.w2w_blas_retarget(want); p != nil {
		return C.GoString(p)
	}
	return ""
}

// The OpenBLAS kernel sets retargetOpenBLAS chooses from, as C strings that live as long as
// the program (w2w_blas_retarget returns the one it used).
var (
	skylakeX = C.CString("SkylakeX")
	haswell  = C.CString("Haswell")
)
