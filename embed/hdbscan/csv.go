package hdbscan

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
)

// maxCSVLine bounds one line of a points file (768 float64 written in full take about
// 19 KiB; 16 MiB leaves room for very wide data).
const maxCSVLine = 16 << 20

// ReadCSV reads points, one per line as comma-separated numbers (spaces around a number
// are ignored, blank lines skipped). name is the file's name for error messages, which
// give the line and column of the first problem: a bad or non-finite number or a line
// with a different number of values than the first.
func ReadCSV(r io.Reader, name string) ([][]float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxCSVLine)
	var pts [][]float64
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
			return nil, fmt.Errorf("hdbscan: %s line %d: %d values, earlier lines have %d: %w", name, line, len(fields), width, ErrInput)
		}
		row := make([]float64, len(fields))
		for k, f := range fields {
			v, err := strconv.ParseFloat(string(bytes.TrimSpace(f)), 64)
			if err != nil {
				return nil, fmt.Errorf("hdbscan: %s line %d, column %d: %q is not a number: %w", name, line, k+1, f, ErrInput)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("hdbscan: %s line %d, column %d: %v: %w", name, line, k+1, v, ErrInput)
			}
			row[k] = v
		}
		width = len(fields)
		pts = append(pts, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("hdbscan: %s line %d: %w", name, line+1, err)
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("hdbscan: %s: no points: %w", name, ErrInput)
	}
	return pts, nil
}
