package ortsmoke

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/imagegem/imagegem-go/internal/shareddata"
)

// libraryPath returns the ONNX Runtime library to load: IMAGEGEM_ONNXRUNTIME_LIB, then the
// copy fetched by scripts/onnxruntime.sh. Without either the test is skipped, or fails in CI.
func libraryPath(t *testing.T) string {
	t.Helper()
	tried := []string{}
	if p := os.Getenv("IMAGEGEM_ONNXRUNTIME_LIB"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		tried = append(tried, p)
	}
	p := filepath.Join(shareddata.ModuleRoot(t), "third_party", "onnxruntime", "linux-x64", "libonnxruntime.so.1")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	tried = append(tried, p)
	msg := "ONNX Runtime library not found (run scripts/onnxruntime.sh); tried " + filepath.Join(tried...)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func TestRuntimeRunsAffineModel(t *testing.T) {
	ort.SetSharedLibraryPath(libraryPath(t))
	require.NoError(t, ort.InitializeEnvironment())
	defer func() { assert.NoError(t, ort.DestroyEnvironment()) }()
	t.Logf("ONNX Runtime %s", ort.GetVersion())
	assert.Equal(t, "1.24.1", ort.GetVersion())

	raw, err := os.ReadFile(filepath.Join("testdata", "affine_golden.json"))
	require.NoError(t, err)
	var golden struct {
		X []float32 `json:"x"`
		Y []float64 `json:"y"`
	}
	require.NoError(t, json.Unmarshal(raw, &golden))
	require.Len(t, golden.X, 8)
	require.Len(t, golden.Y, 6)

	in, err := ort.NewTensor(ort.NewShape(2, 4), golden.X)
	require.NoError(t, err)
	defer in.Destroy()
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(2, 3))
	require.NoError(t, err)
	defer out.Destroy()

	sess, err := ort.NewAdvancedSession(filepath.Join("testdata", "affine.onnx"),
		[]string{"x"}, []string{"y"}, []ort.Value{in}, []ort.Value{out}, nil)
	require.NoError(t, err)
	defer sess.Destroy()
	require.NoError(t, sess.Run())

	got := out.GetData()
	for i, want := range golden.Y {
		assert.InDelta(t, want, float64(got[i]), 1e-5, "y[%d]", i)
	}
	// The model ends in a ReLU and the golden has a clipped entry: a runtime that skipped
	// the activation would fail here.
	assert.Contains(t, golden.Y, 0.0)
}
