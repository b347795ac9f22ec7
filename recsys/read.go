package recsys

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Format names an interaction file layout.
type Format string

const (
	// FormatSASRec is the SASRec text layout: one "user item" pair per line, separated by
	// white space, each user's lines in time order (kang205/SASRec data/*.txt).
	FormatSASRec Format = "sasrec"
	// FormatRecBole is a RecBole atomic .inter file: a tab-separated header of field:type
	// names holding user_id and item_id, optionally timestamp, then one row per event.
	FormatRecBole Format = "recbole"
)

// maxLineBytes bounds one input line; longer lines are reported as malformed.
const maxLineBytes = 1 << 20

// LoadInteractionsFile reads an interaction file in the given format.
func LoadInteractionsFile(path string, f Format) (*Interactions, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recsys: %w", err)
	}
	defer fh.Close()
	return ReadInteractions(fh, path, f)
}

// ReadInteractions parses interactions from r; name labels errors (a file name).
func ReadInteractions(r io.Reader, name string, f Format) (*Interactions, error) {
	switch f {
	case FormatSASRec:
		return readSASRec(r, name)
	case FormatRecBole:
		return readRecBole(r, name)
	}
	return nil, fmt.Errorf("recsys: %s: unknown format %q (want sasrec or recbole)", name, f)
}

type event struct {
	user, item int32
	time       float64
	line       int
}

func newScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLineBytes)
	return sc
}

func readSASRec(r io.Reader, name string) (*Interactions, error) {
	in := &Interactions{Users: NewIDMap(), Items: NewIDMap()}
	sc := newScanner(r)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		f := bytes.Fields(b)
		if len(f) != 2 {
			return nil, fmt.Errorf("recsys: %s line %d: want \"user item\", got %d fields", name, line, len(f))
		}
		u := in.Users.Add(string(f[0]))
		i := in.Items.Add(string(f[1]))
		if int(u) == len(in.Seqs) {
			in.Seqs = append(in.Seqs, nil)
		}
		in.Seqs[u] = append(in.Seqs[u], i)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("recsys: %s line %d: %w", name, line+1, err)
	}
	if len(in.Seqs) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrEmpty, name)
	}
	return in, nil
}

func readRecBole(r io.Reader, name string) (*Interactions, error) {
	sc := newScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("recsys: %s line 1: %w", name, err)
		}
		return nil, fmt.Errorf("%w in %s (no header)", ErrEmpty, name)
	}
	cu, ci, ct := -1, -1, -1
	header := strings.Split(strings.TrimRight(sc.Text(), "\r"), "\t")
	for k, h := range header {
		field, _, _ := strings.Cut(h, ":")
		switch field {
		case "user_id":
			cu = k
		case "item_id":
			ci = k
		case "timestamp":
			ct = k
		}
	}
	if cu < 0 || ci < 0 {
		return nil, fmt.Errorf("recsys: %s line 1: header needs user_id and item_id columns, got %q", name, header)
	}
	users, items := NewIDMap(), NewIDMap()
	var evs []event
	line := 1
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(s) == "" {
			continue
		}
		f := strings.Split(s, "\t")
		if len(f) != len(header) {
			return nil, fmt.Errorf("recsys: %s line %d: %d columns, header has %d", name, line, len(f), len(header))
		}
		if f[cu] == "" || f[ci] == "" {
			return nil, fmt.Errorf("recsys: %s line %d: empty user_id or item_id", name, line)
		}
		e := event{user: users.Add(f[cu]), item: items.Add(f[ci]), line: line}
		if ct >= 0 {
			t, err := strconv.ParseFloat(f[ct], 64)
			if err != nil {
				return nil, fmt.Errorf("recsys: %s line %d column timestamp: %w", name, line, err)
			}
			e.time = t
		}
		evs = append(evs, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("recsys: %s line %d: %w", name, line+1, err)
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrEmpty, name)
	}
	in := &Interactions{Users: users, Items: items, Seqs: make([][]int32, users.Len())}
	byUser := make([][]event, users.Len())
	for _, e := range evs {
		byUser[e.user] = append(byUser[e.user], e)
	}
	for u, es := range byUser {
		// Stable by time: rows with equal timestamps keep their file order.
		sortEvents(es)
		s := make([]int32, len(es))
		for k, e := range es {
			s[k] = e.item
		}
		in.Seqs[u] = s
	}
	return in, nil
}

// sortEvents orders one user's events by time; events with equal timestamps keep their
// file order.
func sortEvents(es []event) {
	sort.SliceStable(es, func(a, b int) bool { return es[a].time < es[b].time })
}
