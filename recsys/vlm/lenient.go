package vlm

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting the lenient reader follows.
const maxJSONDepth = 32

// lenient reads JSON as models write it: single-quoted strings, unquoted keys, trailing
// commas, Python's True/False/None, and a value cut off at the end of the text (what was read
// is kept, the open containers are closed). Objects keep their keys in order.
type lenient struct {
	s    string
	i    int
	cut  bool // the text ended inside a value
	deep bool // the nesting went past maxJSONDepth
}

// object is a JSON object with its keys in order.
type object struct {
	keys []string
	vals []any
}

func (o *object) get(names ...string) (any, bool) {
	for _, n := range names {
		for i, k := range o.keys {
			if strings.EqualFold(strings.TrimSpace(k), n) {
				return o.vals[i], true
			}
		}
	}
	return nil, false
}

// jsonValues returns the top-level JSON values (objects and arrays) found in text, in
// order, and whether the last one was cut off.
func jsonValues(text string) (vals []any, cut bool) {
	for i := 0; i < len(text) && len(vals) < 64; {
		j := strings.IndexAny(text[i:], "{[")
		if j < 0 {
			break
		}
		p := &lenient{s: text, i: i + j}
		v, ok := p.value(0)
		if ok && p.i > i+j && isContainer(v) && nonEmpty(v) {
			vals = append(vals, v)
			cut = cut || p.cut
			i = p.i
			continue
		}
		// A container nested past maxJSONDepth kept nothing, and neither would any start
		// inside it: resume after it, which keeps hostile nesting linear.
		if p.deep {
			i = max(i+j+1, p.i)
		} else {
			i += j + 1
		}
	}
	return vals, cut
}

func isContainer(v any) bool {
	switch v.(type) {
	case *object, []any:
		return true
	}
	return false
}

func nonEmpty(v any) bool {
	switch x := v.(type) {
	case *object:
		return len(x.keys) > 0
	case []any:
		return len(x) > 0
	}
	return true
}

func (p *lenient) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value reads one value; ok is false when nothing value-like starts here.
func (p *lenient) value(depth int) (any, bool) {
	if depth > maxJSONDepth {
		p.deep = true
		return nil, false
	}
	p.ws()
	if p.i >= len(p.s) {
		p.cut = true
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"' || c == '\'':
		s, ok := p.str(c)
		return s, ok
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		w := p.word()
		switch strings.ToLower(w) {
		case "true":
			return true, true
		case "false":
			return false, true
		case "null", "none":
			return nil, true
		case "":
			return nil, false
		}
		return w, true // a bare word: keep it as a string
	}
}

func (p *lenient) object(depth int) (any, bool) {
	o := &object{}
	p.i++ // {
	for {
		p.ws()
		if p.i >= len(p.s) {
			p.cut = true
			return o, true
		}
		switch p.s[p.i] {
		case '}':
			p.i++
			return o, true
		case ',':
			p.i++
			continue
		}
		var key string
		if c := p.s[p.i]; c == '"' || c == '\'' {
			k, ok := p.str(c)
			if !ok {
				return o, true
			}
			key = k
		} else {
			key = p.word()
			if key == "" {
				// Not an object after all (prose in braces): stop here.
				return o, len(o.keys) > 0
			}
		}
		p.ws()
		if p.i >= len(p.s) {
			p.cut = true
			return o, true
		}
		if p.s[p.i] != ':' && p.s[p.i] != '=' {
			return o, len(o.keys) > 0
		}
		p.i++
		v, ok := p.value(depth + 1)
		if !ok {
			if p.cut {
				return o, true
			}
			return o, len(o.keys) > 0
		}
		o.keys, o.vals = append(o.keys, key), append(o.vals, v)
	}
}

func (p *lenient) array(depth int) (any, bool) {
	var a []any
	p.i++ // [
	for {
		p.ws()
		if p.i >= len(p.s) {
			p.cut = true
			return a, true
		}
		switch p.s[p.i] {
		case ']':
			p.i++
			return a, true
		case ',':
			p.i++
			continue
		}
		v, ok := p.value(depth + 1)
		if !ok {
			if p.cut {
				return a, true
			}
			return a, len(a) > 0
		}
		a = append(a, v)
	}
}

// str reads a string quoted with q; a string cut off by the end of the text is kept.
func (p *lenient) str(q byte) (string, bool) {
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), true
		case c == '\\' && p.i+1 < len(p.s):
			p.i++
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b', 'f':
			case 'u':
				if p.i+4 < len(p.s) {
					if r, err := strconv.ParseUint(p.s[p.i+1:p.i+5], 16, 32); err == nil {
						b.WriteRune(rune(r))
						p.i += 4
						break
					}
				}
				b.WriteByte('u')
			default:
				b.WriteByte(e)
			}
			p.i++
		default:
			_, n := utf8.DecodeRuneInString(p.s[p.i:])
			b.WriteString(p.s[p.i : p.i+n])
			p.i += n
		}
	}
	p.cut = true
	return b.String(), true
}

func (p *lenient) number() (any, bool) {
	start := p.i
	for p.i < len(p.s) && strings.IndexByte("+-.eE0123456789", p.s[p.i]) >= 0 {
		p.i++
	}
	lit := p.s[start:p.i]
	// "85/100" or "8/10" written as a bare value.
	if p.i < len(p.s) && p.s[p.i] == '/' {
		j := p.i + 1
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j > p.i+1 {
			lit = p.s[start:j]
			p.i = j
			return lit, true
		}
	}
	if p.i >= len(p.s) {
		p.cut = true
	}
	v, err := strconv.ParseFloat(strings.TrimPrefix(lit, "+"), 64)
	if err != nil {
		return lit, lit != ""
	}
	return v, true
}

// word reads a bare identifier-like word (letters, digits, _ - . space-free).
func (p *lenient) word() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}
