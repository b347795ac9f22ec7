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

// readJSON decodes a file, naming the file, the field and the byte offset of an error.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("imagegem: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return jsonErr(path, "", 0, err)
	}
	return nil
}

// jsonErr describes a decoding error of the value at byte offset base of the file (where,
// as "items[3]", names that value): the field and the offset in the file where the JSON
// package reports them. It wraps ErrMalformed and err.
func jsonErr(path, where string, base int64, err error) error {
	loc := "imagegem: " + path
	if where != "" {
		loc += ": " + where
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%s: invalid JSON at offset %d: %w: %w", loc, base+se.Offset, ErrMalformed, err)
	case errors.As(err, &te):
		return fmt.Errorf("%s: field %q at offset %d: %w: %w", loc, te.Field, base+te.Offset, ErrMalformed, err)
	}
	return fmt.Errorf("%s: %w: %w", loc, ErrMalformed, err)
}

// pageItems returns the elements of a page's top-level "items" array with the byte offset
// of each in b, so that an error inside an item can name its place in the file. Items is
// nil when the page has no "items" array.
func pageItems(b []byte) (items []json.RawMessage, offsets []int64, err error) {
	if !json.Valid(b) {
		var v any
		return nil, nil, json.Unmarshal(b, &v) // the syntax error, with its offset
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		if key != "items" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, nil, err
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return nil, nil, err
		}
		items = []json.RawMessage{}
		for dec.More() {
			off := dec.InputOffset()
			for off < int64(len(b)) && strings.IndexByte(", \t\r\n", b[off]) >= 0 {
				off++
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, nil, err
			}
			items = append(items, raw)
			offsets = append(offsets, off)
		}
		if _, err := dec.Token(); err != nil {
			return nil, nil, err
		}
	}
	return items, offsets, nil
}
