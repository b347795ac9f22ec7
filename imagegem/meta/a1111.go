package meta

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// negativePrefix starts the negative prompt in A1111's parameters text.
const negativePrefix = "Negative prompt:"

// minParamsOnLine is how many "Key: value" pairs make a line A1111's settings line (the
// reference web UI's own reader uses the same three).
const minParamsOnLine = 3

// ParseA1111 parses A1111/Forge "parameters" text: the prompt, an optional "Negative
// prompt:" part, and a last line of "Key: value" pairs separated by commas, values quoted
// JSON-style when they hold commas. "Lora hashes", "TI hashes", "Hashes" (JSON) and
// "Civitai resources" (JSON) are read into the typed fields; <lora:name:weight> and
// <lyco:…> tags in the prompt give the LoRAs' weights. Unknown keys are kept in Params.
func ParseA1111(text string) (*Generation, error) {
	s := strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	lines := strings.Split(s, "\n")
	var settings string
	if last := lines[len(lines)-1]; len(scanParams(last)) >= minParamsOnLine {
		settings = last
		lines = lines[:len(lines)-1]
	}
	var prompt, negative []string
	neg := false
	for _, l := range lines {
		if after, ok := strings.CutPrefix(l, negativePrefix); ok && !neg {
			neg = true
			l = strings.TrimPrefix(after, " ")
		}
		if neg {
			negative = append(negative, l)
		} else {
			prompt = append(prompt, l)
		}
	}
	g := &Generation{
		Format:         FormatA1111,
		Prompt:         strings.TrimSpace(strings.Join(prompt, "\n")),
		NegativePrompt: strings.TrimSpace(strings.Join(negative, "\n")),
		Params:         scanParams(settings),
	}
	var errs []string
	for _, p := range g.Params {
		if err := g.setA1111(p.Key, p.Value); err != nil {
			errs = append(errs, err.Error())
		}
	}
	g.LoRAs = mergeLoRAs(promptLoRAs(g.Prompt), g.LoRAs)
	if len(errs) > 0 {
		return g, fmt.Errorf("meta: %w: A1111 parameters: %s", ErrSyntax, strings.Join(errs, "; "))
	}
	return g, nil
}

func hasA1111Params(s string) bool {
	i := strings.LastIndexByte(s, '\n')
	return strings.Contains(s[i+1:], "Steps: ") && len(scanParams(s[i+1:])) >= minParamsOnLine
}

func (g *Generation) setA1111(k, v string) error {
	var err error
	switch k {
	case "Steps":
		g.Steps, err = strconv.Atoi(v)
	case "Sampler":
		g.Sampler = v
	case "Schedule type":
		g.Scheduler = v
	case "CFG scale":
		g.CFGScale, err = strconv.ParseFloat(v, 64)
	case "Seed":
		g.Seed, err = strconv.ParseInt(v, 10, 64)
	case "Size":
		w, h, ok := strings.Cut(v, "x")
		if !ok {
			return fmt.Errorf("field Size: %q is not WxH", v)
		}
		if g.Width, err = strconv.Atoi(w); err == nil {
			g.Height, err = strconv.Atoi(h)
		}
	case "Model hash":
		g.ModelHash = strings.ToLower(v)
	case "Model":
		g.Model = v
	case "VAE":
		g.VAE = v
	case "VAE hash":
		g.VAEHash = strings.ToLower(v)
	case "Denoising strength":
		g.Denoise, err = strconv.ParseFloat(v, 64)
	case "Clip skip":
		g.ClipSkip, err = strconv.Atoi(v)
	case "Version":
		g.Software = v
	case "Lora hashes":
		for _, nh := range splitNameHashes(v) {
			g.LoRAs = append(g.LoRAs, LoRA{Name: nh[0], Weight: 1, Hash: strings.ToLower(nh[1])})
		}
	case "TI hashes":
		for _, nh := range splitNameHashes(v) {
			g.Embeddings = append(g.Embeddings, Resource{Type: "embed", Name: nh[0], Hash: strings.ToLower(nh[1])})
		}
	case "Hashes":
		var m map[string]string
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return fmt.Errorf("field Hashes: %v", err)
		}
		for _, key := range sortedKeys(m) {
			h := strings.ToLower(m[key])
			switch {
			case key == "model":
				if g.ModelHash == "" {
					g.ModelHash = h
				}
			case key == "vae":
				if g.VAEHash == "" {
					g.VAEHash = h
				}
			case strings.HasPrefix(key, "lora:"):
				g.LoRAs = mergeLoRAs(g.LoRAs, []LoRA{{Name: key[5:], Weight: 1, Hash: h}})
			case strings.HasPrefix(key, "embed:"):
				g.Embeddings = append(g.Embeddings, Resource{Type: "embed", Name: key[6:], Hash: h})
			}
		}
	case "Civitai resources":
		rs, err := ParseCivitaiResources(v)
		if err != nil {
			return fmt.Errorf("field Civitai resources: %v", err)
		}
		g.Resources = rs
	}
	if err != nil {
		return fmt.Errorf("field %s %q: %v", k, v, err)
	}
	return nil
}

// scanParams reads "Key: value" pairs separated by commas. Keys start with a letter, digit
// or underscore and hold letters, digits, spaces, '-', '_' and '/'; a value is a JSON-style
// quoted string, a JSON object or array (brackets balanced), or everything up to the next
// comma. Text that is no pair is skipped to the next comma, as the reference's regular
// expression does.
func scanParams(line string) []Param {
	var out []Param
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		start := i
		for i < len(line) && isKeyByte(line[i]) {
			i++
		}
		key := strings.TrimRight(line[start:i], " ")
		if i >= len(line) || line[i] != ':' || key == "" || !isWordByte(line[start]) {
			j := strings.IndexByte(line[i:], ',')
			if j < 0 {
				break
			}
			i += j + 1
			continue
		}
		i++ // ':'
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		var val string
		switch {
		case i < len(line) && line[i] == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				val, i = line[i:], len(line)
				break
			}
			q := line[i : j+1]
			if u, err := strconv.Unquote(q); err == nil {
				val = u
			} else if err := json.Unmarshal([]byte(q), &val); err != nil {
				val = q[1 : len(q)-1]
			}
			i = j + 1
		case i < len(line) && (line[i] == '{' || line[i] == '['):
			j := balanced(line, i)
			val, i = line[i:j], j
		default:
			j := strings.IndexByte(line[i:], ',')
			if j < 0 {
				j = len(line) - i
			}
			val = strings.TrimRight(line[i:i+j], " ")
			i += j
		}
		out = append(out, Param{key, val})
		if j := strings.IndexByte(line[i:], ','); j >= 0 && strings.TrimSpace(line[i:i+j]) == "" {
			i += j + 1
		} else if j >= 0 {
			i += j + 1
		} else {
			break
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isKeyByte(c byte) bool { return isWordByte(c) || c == ' ' || c == '-' || c == '/' }

// balanced returns the index just past the JSON value starting at s[i] ('{' or '['),
// or len(s) when it does not close.
func balanced(s string, i int) int {
	depth := 0
	inStr := false
	for j := i; j < len(s); j++ {
		c := s[j]
		if inStr {
			if c == '\\' {
				j++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(s)
}

// splitNameHashes splits "name: hash, name2: hash2" (names may hold ':' and spaces; the
// hash is after the last ': ').
func splitNameHashes(v string) [][2]string {
	var out [][2]string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		i := strings.LastIndex(part, ":")
		if i <= 0 {
			continue
		}
		out = append(out, [2]string{strings.TrimSpace(part[:i]), strings.TrimSpace(part[i+1:])})
	}
	return out
}

// promptLoRAs reads <lora:name:weight> and <lyco:name:weight> tags (extra weights after a
// second ':' — text encoder, UNet — are ignored; no weight means 1).
func promptLoRAs(p string) []LoRA {
	var out []LoRA
	for {
		i := strings.Index(p, "<")
		if i < 0 {
			return out
		}
		p = p[i+1:]
		j := strings.IndexByte(p, '>')
		if j < 0 {
			return out
		}
		tag := p[:j]
		p = p[j+1:]
		kind, rest, ok := strings.Cut(tag, ":")
		if !ok || (kind != "lora" && kind != "lyco") {
			continue
		}
		parts := strings.Split(rest, ":")
		l := LoRA{Name: parts[0], Weight: 1}
		if len(parts) > 1 {
			if w, err := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64); err == nil {
				l.Weight = w
			}
		}
		if l.Name != "" {
			out = append(out, l)
		}
	}
}

// mergeLoRAs joins two lists by name: the first list's order and weights, the second's
// hashes and ids; names only in the second are appended.
func mergeLoRAs(a, b []LoRA) []LoRA {
	out := append([]LoRA(nil), a...)
	for _, l := range b {
		found := false
		for i := range out {
			if out[i].Name == l.Name {
				if out[i].Hash == "" {
					out[i].Hash = l.Hash
				}
				if out[i].ModelVersionID == 0 {
					out[i].ModelVersionID = l.ModelVersionID
				}
				found = true
				break
			}
		}
		if !found {
			out = append(out, l)
		}
	}
	return out
}

// FormatA1111Text writes a generation as A1111 "parameters" text: the prompt, the negative
// prompt, and the settings line from Params (values quoted when they hold a comma, a colon
// or a line break, as the web UI does). [ParseA1111] reads it back to the same Generation.
func FormatA1111Text(g *Generation) string {
	var b strings.Builder
	b.WriteString(g.Prompt)
	if g.NegativePrompt != "" {
		b.WriteString("\n" + negativePrefix + " " + g.NegativePrompt)
	}
	if len(g.Params) > 0 {
		b.WriteString("\n")
		for i, p := range g.Params {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.Key + ": " + quoteParam(p.Value))
		}
	}
	return b.String()
}

func quoteParam(v string) string {
	if !strings.ContainsAny(v, ",:\n\"") || (len(v) > 0 && (v[0] == '{' || v[0] == '[') && balanced(v, 0) == len(v)) {
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}
