package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/imagegem/synth"
	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/internal/cli/clitest"
)

var (
	releaseOnce sync.Once
	releaseDir  string
	releaseErr  error
)

// release writes one small synthetic release for all the tests.
func release(t *testing.T) string {
	t.Helper()
	releaseOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vlmrank-release-")
		if err != nil {
			releaseErr = err
			return
		}
		releaseDir = filepath.Join(dir, "release")
		_, releaseErr = synth.Generate(context.Background(), releaseDir, &synth.Options{Images: 2000, Seed: 5})
	})
	require.NoError(t, releaseErr)
	return releaseDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if releaseDir != "" {
		_ = os.RemoveAll(filepath.Dir(releaseDir))
	}
	os.Exit(code)
}

var orderLine = regexp.MustCompile(`in this order:((?: \d+)+)\.`)
var modelLine = regexp.MustCompile(`(?m)^- (\d+): `)
var captionModel = regexp.MustCompile(`(?m)^Model (\d+)`)

// vlmServer answers the four prompts as a model would, with scores that depend on the
// candidates only; stall makes it never answer.
func vlmServer(t *testing.T, stall bool) (*httptest.Server, *int) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		if stall {
			<-r.Context().Done()
			return
		}
		var body struct {
			Messages []struct {
				Content []struct {
					Text     string `json:"text"`
					ImageURL struct {
						URL string `json:"url"`
					} `json:"image_url"`
				} `json:"content"`
			} `json:"messages"`
		}
		b, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(b, &body))
		content := body.Messages[len(body.Messages)-1].Content
		prompt := content[0].Text
		var text string
		switch {
		case strings.Contains(prompt, "Describe this user's visual preferences"):
			text = "```json\n{\"subject\": \"portraits\", \"visual_features\": \"soft light\", \"style\": \"anime\", \"background\": \"city\", \"summary\": \"Anime portraits.\"}\n```"
		case orderLine.MatchString(prompt):
			var items []string
			for j, l := range strings.Fields(orderLine.FindStringSubmatch(prompt)[1]) {
				url := content[1+j].ImageURL.URL
				items = append(items, fmt.Sprintf(`{"id": "%s", "score": "%d/100", "explanation": "seen %s"}`, l, len(url)*7%101, url))
			}
			text = "Scores:\n[" + strings.Join(items, ", ") + ",]"
		case captionModel.MatchString(prompt):
			var items []string
			for _, m := range captionModel.FindAllStringSubmatch(prompt, -1) {
				items = append(items, fmt.Sprintf(`{'id': '%s', 'summary': 'model %s makes pictures'}`, m[1], m[1]))
			}
			text = "[" + strings.Join(items, ", ") + "]"
		case modelLine.MatchString(prompt):
			var items []string
			for _, m := range modelLine.FindAllStringSubmatch(prompt, -1) {
				items = append(items, fmt.Sprintf(`{"id": "%s", "score": %d, "explanation": "ok"}`, m[1], (len(m[1])*13+len(prompt))%100))
			}
			text = "[" + strings.Join(items, ", ") + "]"
		default:
			http.Error(w, `{"error":{"message":"unexpected prompt"}}`, 400)
			return
		}
		out, _ := json.Marshal(map[string]any{"id": "x", "object": "chat.completion", "model": "m",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": text}}}})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func runOK(t *testing.T, args ...string) (result, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var got result
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &got), "last line is one JSON object: %s", stdout.String())
	return got, stdout.String()
}

func TestVLMRankRunsBothStagesAndEndsWithJSON(t *testing.T) {
	for _, kind := range []string{"models", "images"} {
		t.Run(kind, func(t *testing.T) {
			srv, _ := vlmServer(t, false)
			out := filepath.Join(t.TempDir(), "out")
			cache := filepath.Join(t.TempDir(), "cache")
			args := []string{"-base-url", srv.URL + "/v1", "-model", "pixtral", "-max-images", "10", "-kind", kind,
				"-data", release(t), "-users", "3", "-trials", "3", "-k", "4", "-cache", cache, "-out", out}
			got, stdout := runOK(t, args...)
			if got.Users == 0 {
				t.Skipf("no %s user has the held-out item in the top 10 of the synthetic release", kind)
			}
			assert.Contains(t, stdout, "avg rank ± std")
			assert.Contains(t, stdout, "VLM (pixtral)")
			assert.Equal(t, got.Users, got.VLM.Users)
			assert.Equal(t, got.Users, got.FirstStage.Users)
			assert.GreaterOrEqual(t, got.FirstStage.MeanRank, 1.0)
			assert.LessOrEqual(t, got.FirstStage.MeanRank, 10.0)
			assert.Equal(t, 4, got.K)
			assert.Zero(t, got.Stats.CacheHits)
			assert.Equal(t, []string{"profiles.jsonl", "scores.jsonl", "table7.json"}, clitest.Files(t, out))

			b, err := os.ReadFile(filepath.Join(out, "scores.jsonl"))
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			require.Len(t, lines, got.Users)
			var line scoreLine
			require.NoError(t, json.Unmarshal([]byte(lines[0]), &line))
			assert.Len(t, line.Candidates, 10)
			assert.GreaterOrEqual(t, line.VLMRank, 1)
			seen := 0
			for _, c := range line.Candidates {
				seen += c.Seen
				if c.Seen == 0 {
					assert.Equal(t, []string{"no trial drew this candidate"}, c.Failures)
					assert.Equal(t, -1.0, c.Score)
				} else {
					assert.Equal(t, c.Seen, len(c.Scores)+len(c.Failures))
				}
			}
			assert.Equal(t, 3*4, seen, "T trials of k candidates")

			// A rerun is answered from the cache.
			again, _ := runOK(t, append(args[:len(args)-1], out+"2")...)
			assert.Equal(t, got.VLM, again.VLM)
			assert.Zero(t, again.Stats.Requests)
			assert.Equal(t, got.Stats.Requests, again.Stats.CacheHits)
		})
	}
}

func TestVLMRankUsage(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &stderr, &stderr)
	assert.Equal(t, 0, cli.Status("vlmrank", err, context.Background(), &stderr))
	assert.Contains(t, stderr.String(), "usage: vlmrank -base-url URL -model NAME -data DIR")
	t.Setenv("OPENAI_BASE_URL", "")
	err = run(context.Background(), []string{"-model", "m"}, &stderr, &stderr)
	assert.ErrorIs(t, err, cli.ErrUsage)
	assert.Contains(t, err.Error(), "-base-url is required")
	err = run(context.Background(), []string{"-base-url", "http://x/v1", "-model", "m", "-data", "d", "-out", "o", "-server", "vllm"}, &stderr, &stderr)
	assert.ErrorIs(t, err, cli.ErrUsage)
	assert.Contains(t, err.Error(), "the server takes 1 images per request")
}

func TestVLMRankInterruptLeavesNoOutput(t *testing.T) {
	bin := clitest.Build(t)
	srv, _ := vlmServer(t, true)
	out := filepath.Join(t.TempDir(), "out")
	r := clitest.Interrupt(t, bin, []string{"-base-url", srv.URL + "/v1", "-model", "m", "-max-images", "10", "-kind", "models",
		"-data", release(t), "-users", "3", "-timeout", "1m", "-out", out}, "user 1/", 0)
	assert.Equal(t, 130, r.Status, r.Stderr)
	assert.Less(t, r.Exit, clitest.ExitWithin)
	assert.Empty(t, clitest.Files(t, out))
}
