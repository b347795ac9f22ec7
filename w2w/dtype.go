package w2w

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// DType is a safetensors element type as spelled in the header ("F16", "BF16", ...).
type DType string

// The dtypes of the safetensors format. Only the float types F16, BF16, F32 and F64 convert to
// numbers here; the others are read as raw bytes and refused by the numeric readers.
const (
	F16     DType = "F16"
	BF16    DType = "BF16"
	F32     DType = "F32"
	F64     DType = "F64"
	F8E4M3  DType = "F8_E4M3"
	F8E5M2  DType = "F8_E5M2"
	Bool    DType = "BOOL"
	U8      DType = "U8"
	I8      DType = "I8"
	I16     DType = "I16"
	U16     DType = "U16"
	I32     DType = "I32"
	U32     DType = "U32"
	I64     DType = "I64"
	U64     DType = "U64"
	dtypeNo DType = ""
)

// Size returns the bytes per element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case Bool, U8, I8, F8E4M3, F8E5M2:
		return 1
	case F16, BF16, I16, U16:
		return 2
	case F32, I32, U32:
		return 4
	case F64, I64, U64:
		return 8
	}
	return 0
}

// Float reports whether values of d convert to float32 with [DecodeFloat32].
func (d DType) Float() bool { return d == F16 || d == BF16 || d == F32 || d == F64 }

func dtypeErr(d DType) error {
	if d == F8E4M3 || d == F8E5M2 {
		return fmt.Errorf("%w %s: 8-bit float weights are not read; convert the file to F16, BF16 or F32 first", ErrUnsupportedDType, d)
	}
	return fmt.Errorf("%w %s: only F16, BF16, F32 and F64 hold weights", ErrUnsupportedDType, d)
}

// DecodeFloat32 converts little-endian raw bytes of dtype d into dst, which must hold exactly
// len(raw)/d.Size() values.
func DecodeFloat32(d DType, raw []byte, dst []float32) error {
	if !d.Float() {
		return dtypeErr(d)
	}
	if len(raw) != len(dst)*d.Size() {
		return fmt.Errorf("%w: %d bytes of %s for %d values", ErrShapeMismatch, len(raw), d, len(dst))
	}
	switch d {
	case F16:
		for i := range dst {
			dst[i] = float16.Frombits(binary.LittleEndian.Uint16(raw[2*i:])).Float32()
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case F64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	}
	return nil
}

// EncodeFloat32 converts values to little-endian bytes of dtype d (rounding to nearest even for
// F16 and BF16).
func EncodeFloat32(d DType, values []float32) ([]byte, error) {
	if !d.Float() {
		return nil, dtypeErr(d)
	}
	out := make([]byte, len(values)*d.Size())
	switch d {
	case F16:
		for i, v := range values {
			binary.LittleEndian.PutUint16(out[2*i:], float16.Fromfloat32(v).Bits())
		}
	case BF16:
		for i, v := range values {
			binary.LittleEndian.PutUint16(out[2*i:], bf16Round(v))
		}
	case F32:
		for i, v := range values {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
		}
	case F64:
		for i, v := range values {
			binary.LittleEndian.PutUint64(out[8*i:], math.Float64bits(float64(v)))
		}
	}
	return out, nil
}

// bf16Round rounds a float32 to bfloat16 bits, nearest even, keeping NaN a NaN.
func bf16Round(v float32) uint16 {
	b := math.Float32bits(v)
	if v != v {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
