package synthdemo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/imagegem/imagegem-go/internal/fileerr"
)

// ErrNpy reports a .npy file this reader does not take: not NumPy's format, another dtype
// or order than asked, or a length that does not match the shape.
var ErrNpy = errors.New("bad npy file")

// npyArray is a little-endian C-order array read from a .npy file.
type npyArray struct {
	descr string
	shape []int
	data  []byte
}

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// parseNpy reads NumPy's .npy format (versions 1, 2 and 3): the magic, the header dict's
// descr, fortran_order and shape, then the data, which must be exactly the shape's size.
func parseNpy(name string, b []byte) (*npyArray, error) {
	bad := func(off int64, format string, args ...any) error {
		return fileerr.New("synthdemo", name, "", off, ErrNpy, format, args...)
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, bad(0, "not a .npy file")
	}
	major := b[6]
	var hlen, start int
	switch major {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, bad(8, "truncated header length")
		}
		h := binary.LittleEndian.Uint32(b[8:12])
		if uint64(h) > uint64(len(b)) {
			return nil, bad(8, "header length %d past the %d-byte file", h, len(b))
		}
		hlen, start = int(h), 12
	default:
		return nil, bad(6, "format version %d", major)
	}
	if start+hlen > len(b) {
		return nil, bad(int64(start-2), "header length %d past the %d-byte file", hlen, len(b))
	}
	header := string(b[start : start+hlen])
	m := npyDescr.FindStringSubmatch(header)
	if m == nil {
		return nil, bad(int64(start), "header has no descr")
	}
	a := &npyArray{descr: m[1]}
	if f := npyFortran.FindStringSubmatch(header); f == nil || f[1] != "False" {
		return nil, bad(int64(start), "only C-order arrays are read (fortran_order must be False)")
	}
	s := npyShape.FindStringSubmatch(header)
	if s == nil {
		return nil, bad(int64(start), "header has no shape")
	}
	size := 1
	for _, p := range strings.Split(s[1], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		d, err := strconv.Atoi(p)
		if err != nil || d < 0 || d > 1<<40 {
			return nil, bad(int64(start), "shape entry %q", p)
		}
		if d > 0 && size > math.MaxInt32/d {
			return nil, bad(int64(start), "shape (%s) too large", s[1])
		}
		size *= d
		a.shape = append(a.shape, d)
	}
	var width int
	switch a.descr {
	case "<f4":
		width = 4
	case "<i8":
		width = 8
	default:
		return nil, bad(int64(start), "dtype %q (only <f4 and <i8 are read)", a.descr)
	}
	a.data = b[start+hlen:]
	if len(a.data) != size*width {
		return nil, bad(int64(start+hlen), "%d data bytes for shape (%s) of %s", len(a.data), s[1], a.descr)
	}
	return a, nil
}

// readNpy reads a .npy file of the dtype with the number of dimensions.
func readNpy(path, descr string, ndim int) (*npyArray, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("synthdemo: %w", err)
	}
	a, err := parseNpy(path, b)
	if err != nil {
		return nil, err
	}
	if a.descr != descr || len(a.shape) != ndim {
		return nil, fileerr.New("synthdemo", path, "", -1, ErrNpy, "%s of %d dimensions, want %s of %d", a.descr, len(a.shape), descr, ndim)
	}
	return a, nil
}

func (a *npyArray) float32s() []float32 {
	out := make([]float32, len(a.data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.data[4*i:]))
	}
	return out
}

func (a *npyArray) int64s() []int64 {
	out := make([]int64, len(a.data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(a.data[8*i:]))
	}
	return out
}
