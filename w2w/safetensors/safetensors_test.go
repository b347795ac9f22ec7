package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawFile assembles a safetensors file from a literal header and data, for bad-input tests.
func rawFile(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	vals := []float32{1, -2, 0.5, 3.25, -0.125, 65504}
	var ts []Tensor
	for _, d := range []DType{F16, BF16, F32, F64} {
		tt, err := FloatTensor("w."+string(d), d, []int{2, 3}, vals)
		require.NoError(t, err)
		ts = append(ts, tt)
	}
	ts = append(ts, Tensor{Name: "scalar", DType: F32, Shape: []int{}, Data: []byte{0, 0, 128, 63}})
	meta := map[string]string{"ss_network_dim": "1", "note": "ünïcode"}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	require.NoError(t, WriteFile(path, ts, meta))

	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, meta, f.Metadata)
	require.Len(t, f.Tensors, len(ts))
	for _, want := range ts {
		info, ok := f.Info(want.Name)
		require.True(t, ok, want.Name)
		assert.Equal(t, want.DType, info.DType)
		assert.Equal(t, want.Shape, info.Shape)
		raw, err := f.Raw(want.Name)
		require.NoError(t, err)
		assert.Equal(t, want.Data, raw, want.Name)
	}
	for _, d := range []DType{F16, BF16, F32, F64} {
		got, err := f.Float32("w." + string(d))
		require.NoError(t, err)
		// Every value above is exact in all four types except 65504 in BF16 (8 mantissa bits).
		for i, v := range vals {
			if d == BF16 && v == 65504 {
				assert.Equal(t, float32(65536), got[i])
				continue
			}
			assert.Equal(t, v, got[i], "%s[%d]", d, i)
		}
	}
	// The data buffer starts 8-byte aligned.
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Zero(t, (8+binary.LittleEndian.Uint64(b))%8)
	// No temporary file is left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

func TestDecodeKnownBits(t *testing.T) {
	// IEEE 754 half 0x3C00 = 1, 0xC000 = -2, 0x7BFF = 65504; bfloat16 0x3F80 = 1, 0xC040 = -3.
	out := make([]float32, 3)
	require.NoError(t, DecodeFloat32(F16, []byte{0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b}, out))
	assert.Equal(t, []float32{1, -2, 65504}, out)
	out = out[:2]
	require.NoError(t, DecodeFloat32(BF16, []byte{0x80, 0x3f, 0x40, 0xc0}, out))
	assert.Equal(t, []float32{1, -3}, out)
}

func TestSafetensorsBadInput(t *testing.T) {
	f32 := []byte{0, 0, 128, 63, 0, 0, 0, 64}
	cases := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short length", []byte{1, 2, 3}, ErrTruncated},
		{"header length past end", append([]byte{200, 0, 0, 0, 0, 0, 0, 0}, "{}"...), ErrTruncated},
		{"header too large", append([]byte{0, 0, 0, 0, 1, 0, 0, 0}, "{}"...), ErrHeaderTooLarge},
		{"not json", rawFile("[1,2]", nil), ErrBadHeader},
		{"garbage json", rawFile(`{"a":`, nil), ErrBadHeader},
		{"trailing json", rawFile(`{}{}`, nil), ErrBadHeader},
		{"duplicate", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32), ErrBadHeader},
		{"unknown dtype", rawFile(`{"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}}`, f32), ErrBadHeader},
		{"bad metadata", rawFile(`{"__metadata__":{"k":1}}`, nil), ErrBadHeader},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32), ErrBadOffsets},
		{"hole", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32), ErrBadOffsets},
		{"out of range", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32), ErrTruncated},
		{"trailing bytes", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32), ErrBadOffsets},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32), ErrBadOffsets},
		{"shape bytes", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32), ErrShapeMismatch},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32), ErrShapeMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.file)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "safetensors: "), err.Error())
			p := filepath.Join(t.TempDir(), "bad.safetensors")
			require.NoError(t, os.WriteFile(p, c.file, 0o600))
			_, err = Open(p)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
			assert.Contains(t, err.Error(), p)
		})
	}
}

func TestSafetensorsF8Refused(t *testing.T) {
	f, err := Parse(rawFile(`{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}))
	require.NoError(t, err, "F8 tensors parse as raw bytes")
	raw, err := f.Raw("a")
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2}, raw)
	_, err = f.Float32("a")
	assert.ErrorIs(t, err, ErrUnsupportedDType)
	assert.Contains(t, err.Error(), "F8_E4M3")
	assert.Contains(t, err.Error(), `"a"`)
}

// TestSafetensorsRealHeaders checks every real file in the shared data against the header the
// reference implementation dumped beside it (.header.json).
func TestSafetensorsRealHeaders(t *testing.T) {
	dir := shareddata.Path(t, "lora")
	files, err := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			js, err := os.ReadFile(p + ".header.json")
			require.NoError(t, err)
			var ref map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(js, &ref))
			f, err := Open(p)
			if strings.HasPrefix(filepath.Base(p), "truncated_") {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrTruncated)
				return
			}
			require.NoError(t, err)
			defer f.Close()
			n := len(ref)
			if _, ok := ref[metadataKey]; ok {
				n--
				var meta map[string]string
				require.NoError(t, json.Unmarshal(ref[metadataKey], &meta))
				assert.Equal(t, meta, f.Metadata)
			}
			assert.Len(t, f.Tensors, n)
			for _, ti := range f.Tensors {
				var rt rawTensor
				require.NoError(t, json.Unmarshal(ref[ti.Name], &rt), ti.Name)
				assert.Equal(t, rt.DType, string(ti.DType))
				assert.Equal(t, []uint64{uint64(ti.Begin), uint64(ti.End)}, rt.DataOffsets)
			}
		})
	}
}

func TestWriteRefusesBadTensors(t *testing.T) {
	_, err := Encode([]Tensor{{Name: "a", DType: F32, Shape: []int{2}, Data: []byte{1}}}, nil)
	assert.ErrorIs(t, err, ErrShapeMismatch)
	_, err = Encode([]Tensor{{Name: "a", DType: F32, Shape: []int{0}}, {Name: "a", DType: F32, Shape: []int{0}}}, nil)
	assert.ErrorIs(t, err, ErrBadHeader)
	_, err = FloatTensor("x", F8E5M2, []int{1}, []float32{1})
	assert.ErrorIs(t, err, ErrUnsupportedDType)
	assert.True(t, math.IsNaN(float64(math.Float32frombits(uint32(bf16Round(float32(math.NaN())))<<16))))
}

func FuzzParse(f *testing.F) {
	good, err := Encode([]Tensor{
		{Name: "a.lora_down.weight", DType: F16, Shape: []int{1, 2}, Data: []byte{0, 60, 0, 60}},
		{Name: "a.lora_up.weight", DType: F32, Shape: []int{2, 1}, Data: make([]byte, 8)},
		{Name: "a.alpha", DType: BF16, Shape: []int{}, Data: []byte{128, 63}},
	}, map[string]string{"ss_network_dim": "1"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, err := Parse(b)
		if err != nil {
			return
		}
		for _, ti := range sf.Tensors {
			if ti.DType.Float() {
				if _, err := sf.Float32(ti.Name); err != nil {
					t.Fatalf("valid tensor %q does not decode: %v", ti.Name, err)
				}
			}
		}
	})
}

func TestWriteFileRefusesInput(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "in.safetensors")
	a, err := FloatTensor("a", F32, []int{2}, []float32{1, 2})
	require.NoError(t, err)
	require.NoError(t, WriteFile(p, []Tensor{a}, nil))
	before, err := os.ReadFile(p)
	require.NoError(t, err)
	b, err := FloatTensor("a", F32, []int{2}, []float32{3, 4})
	require.NoError(t, err)
	err = WriteFile(p, []Tensor{b}, nil, p)
	assert.ErrorIs(t, err, ErrOverwritesInput)
	assert.Contains(t, err.Error(), p)
	after, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the input is untouched")
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}

func TestDecodeFloat32Finite(t *testing.T) {
	raw, err := EncodeFloat32(F16, []float32{1, float32(math.Inf(1)), 2, float32(math.NaN())})
	require.NoError(t, err)
	dst := make([]float32, 4)
	bad, err := DecodeFloat32Finite(F16, raw, dst)
	require.NoError(t, err)
	assert.Equal(t, 1, bad, "index of the first non-finite value")
	assert.Equal(t, float32(2), dst[2])
	bad, err = DecodeFloat32Finite(F16, raw[:4], dst[:2])
	require.NoError(t, err)
	assert.Equal(t, 1, bad)
	bad, err = DecodeFloat32Finite(F16, raw[:2], dst[:1])
	require.NoError(t, err)
	assert.Equal(t, -1, bad)
	_, err = DecodeFloat32Finite(F16, raw[:3], dst[:2])
	assert.ErrorIs(t, err, ErrShapeMismatch)
	_, err = DecodeFloat32Finite(I32, raw, dst[:2])
	assert.ErrorIs(t, err, ErrUnsupportedDType)
}
