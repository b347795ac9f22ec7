package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"

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
	decodeFinite(d, raw, dst)
	return nil
}

// DecodeFloat32Finite is [DecodeFloat32] that also returns the index of the first NaN or
// Inf value, or −1 when every value is finite. The whole tensor is decoded either way.
func DecodeFloat32Finite(d DType, raw []byte, dst []float32) (int, error) {
	if !d.Float() {
		return -1, dtypeErr(d)
	}
	if len(raw) != len(dst)*d.Size() {
		return -1, fmt.Errorf("%w: %d bytes of %s for %d values", ErrShapeMismatch, len(raw), d, len(dst))
	}
	return decodeFinite(d, raw, dst), nil
}

// f16Table maps every IEEE half-precision bit pattern to its float32 value; a table lookup is
// several times faster than converting bit fields per element.
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = float16.Frombits(uint16(i)).Float32()
	}
	return &t
})

// decodeFinite converts raw values of the float dtype d into dst (len(raw) = len(dst)·size)
// and returns the index of the first NaN or Inf, or −1. The check reads the exponent bits,
// all ones exactly for NaN and Inf in every IEEE format.
func decodeFinite(d DType, raw []byte, dst []float32) int {
	bad := -1
	switch d {
	case F16:
		t := f16Table()
		raw = raw[:2*len(dst)]
		for i := range dst {
			h := uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
			if h&0x7c00 == 0x7c00 && bad < 0 {
				bad = i
			}
			dst[i] = t[h]
		}
	case BF16:
		raw = raw[:2*len(dst)]
		for i := range dst {
			h := uint32(raw[2*i]) | uint32(raw[2*i+1])<<8
			if h&0x7f80 == 0x7f80 && bad < 0 {
				bad = i
			}
			dst[i] = math.Float32frombits(h << 16)
		}
	case F32:
		raw = raw[:4*len(dst)]
		for i := range dst {
			u := binary.LittleEndian.Uint32(raw[4*i:])
			if u&0x7f800000 == 0x7f800000 && bad < 0 {
				bad = i
			}
			dst[i] = math.Float32frombits(u)
		}
	case F64:
		raw = raw[:8*len(dst)]
		for i := range dst {
			u := binary.LittleEndian.Uint64(raw[8*i:])
			if u&0x7ff0000000000000 == 0x7ff0000000000000 && bad < 0 {
				bad = i
			}
			dst[i] = float32(math.Float64frombits(u))
		}
	}
	return bad
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
