// The JSON shapes Civitai responses share: free-form metadata, numbers and flags that are
// sometimes strings, times, and the page reader.

package imagegem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// meta reads the free-form generation metadata, whose numbers are sometimes strings.
type meta map[string]json.RawMessage

func (m meta) get(keys ...string) (json.RawMessage, bool) {
	for _, k := range keys {
		if v, ok := m[k]; ok && string(v) != "null" {
			return v, true
		}
	}
	return nil, false
}

func (m meta) str(keys ...string) string {
	v, ok := m.get(keys...)
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return strings.Trim(string(v), `"`)
}

func (m meta) num(keys ...string) (float64, bool) {
	v, ok := m.get(keys...)
	if !ok {
		return 0, false
	}
	var f float64
	if json.Unmarshal(v, &f) == nil {
		return f, true
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

func (m meta) int(keys ...string) int64 {
	f, _ := m.num(keys...)
	return int64(f)
}

func (m meta) float(keys ...string) float64 {
	f, _ := m.num(keys...)
	return f
}

func (m meta) floatOrNaN(keys ...string) float64 {
	if f, ok := m.num(keys...); ok {
		return f
	}
	return math.NaN()
}

// raw returns a value as text: a string as is, anything else as compact JSON.
func (m meta) raw(keys ...string) string {
	v, ok := m.get(keys...)
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) == nil {
		return buf.String()
	}
	return string(v)
}

// flexInt reads a JSON number or a numeric string; null reads as 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*f = flexInt(v)
	return nil
}

// flexStrings reads a list of strings, a ", "-joined string, or a list of {"name": …}.
type flexStrings []string

func (f *flexStrings) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = SplitList(s)
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("want a string or a list: %s", b)
	}
	for _, item := range list {
		var s string
		if json.Unmarshal(item, &s) == nil {
			*f = append(*f, s)
			continue
		}
		var named struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(item, &named) == nil && named.Name != "" {
			*f = append(*f, named.Name)
		}
	}
	return nil
}

// flexBool reads true/false or 0/1.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "true", "1":
		*f = true
	case "false", "0", "null", "":
		*f = false
	default:
		return fmt.Errorf("not a boolean: %s", b)
	}
	return nil
}

// parseAPITime parses Civitai's ISO times ("2024-04-04T21:24:07.499Z") and the release's
// own layout.
func parseAPITime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, TimeLayout} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", s)
}

// readJSON decodes a file, naming the file and the byte offset of a syntax error.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("imagegem: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("imagegem: %s: invalid JSON at offset %d: %w", path, se.Offset, err)
		case errors.As(err, &te):
			return fmt.Errorf("imagegem: %s: field %q at offset %d: %w", path, te.Field, te.Offset, err)
		}
		return fmt.Errorf("imagegem: %s: %w", path, err)
	}
	return nil
}
