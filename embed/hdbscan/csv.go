package hdbscan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// maxCSVLine bounds one line of a points file (768 float64 written in full take about
// 19 KiB; 16 MiB leaves room for very wide data).
const maxCSVLine = 16 << 20

// ReadCSV reads points, one per line as comma-separated numbers (spaces around a number
// are ignored, blank lines skipped), and returns them row-major with their dimension, as
// [Fit] takes them. Numbers are rounded to float32. name is the file's name for error
// messages, which give the line and column of the first problem: a bad, non-finite or
// beyond-float32 number or a line with a different number of values than the first.
func ReadCSV(r io.Reader, name string) (points []float32, dim int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxCSVLine)
	var pts []float32
	width := -1
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		fields := bytes.Split(b, []byte{','})
		if width >= 0 && len(fields) != width {
			return nil, 0, fmt.Errorf("hdbscan: %s line %d: %d values, earlier lines have %d: %w", name, line, len(fields), width, ErrInput)
		}
		for k, f := range fields {
			v, err := strconv.ParseFloat(string(bytes.TrimSpace(f)), 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, 0, fmt.Errorf("hdbscan: %s line %d, column %d: %q is not a number: %w", name, line, k+1, f, ErrInput)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, 0, fmt.Errorf("hdbscan: %s line %d, column %d: %v: %w", name, line, k+1, v, ErrInput)
			}
			if math.Abs(v) > math.MaxFloat32 {
				return nil, 0, fmt.Errorf("hdbscan: %s line %d, column %d: %v is beyond the float32 range: %w", name, line, k+1, v, ErrInput)
			}
			pts = append(pts, float32(v))
		}
		width = len(fields)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("hdbscan: %s line %d: %w", name, line+1, err)
	}
	if len(pts) == 0 {
		return nil, 0, fmt.Errorf("hdbscan: %s: no points: %w", name, ErrInput)
	}
	return pts, width, nil
}
