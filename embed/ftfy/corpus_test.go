package ftfy

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/stretchr/testify/require"
)

// corpusPrompts reads the shared prompt corpus (skips without ../shared).
func corpusPrompts(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(shareddata.Path(t, "prompts", "prompts.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var row struct {
			Prompt string `json:"prompt"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &row))
		out = append(out, row.Prompt)
	}
	require.NoError(t, sc.Err())
	return out
}
