package vlm

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writePNG writes a w×h PNG and returns its path and bytes.
func writePNG(t *testing.T, dir, name string, w, h int) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8((x + y) * 3), 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	return p, b.Bytes()
}

// parts returns the content parts of the user message of a recorded request.
func parts(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	msgs, ok := body["messages"].([]any)
	require.True(t, ok, "messages in %v", body)
	user := msgs[len(msgs)-1].(map[string]any)
	require.Equal(t, "user", user["role"])
	var out []map[string]any
	for _, p := range user["content"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

func dataURL(t *testing.T, part map[string]any) (string, []byte) {
	t.Helper()
	require.Equal(t, "image_url", part["type"])
	url := part["image_url"].(map[string]any)["url"].(string)
	mime, b64, ok := strings.Cut(strings.TrimPrefix(url, "data:"), ";base64,")
	require.True(t, ok, "not a data URL: %.60s", url)
	b, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	return mime, b
}

func TestDescribeUserSendsTheTemplateAndTheImages(t *testing.T) {
	dir := t.TempDir()
	p1, b1 := writePNG(t, dir, "a.png", 32, 24)
	p2, b2 := writePNG(t, dir, "b.png", 16, 16)
	f := newFake(t, reply("Here you go:\n```json\n{\"subject\": \"cats\", \"visual_features\": \"soft light\", \"style\": \"watercolour\", \"background\": \"gardens\", \"summary\": \"Cats in gardens.\",}\n```", "stop"))
	c := f.client(t, Options{Seed: 7})
	prof, err := c.DescribeUser(context.Background(), []Image{ImageFile(p1), ImageFile(p2), ImageURL("https://example.test/c.jpg")}, nil)
	require.NoError(t, err)
	assert.Equal(t, Profile{Subject: "cats", VisualFeatures: "soft light", Style: "watercolour", Background: "gardens", Summary: "Cats in gardens."}, prof)

	reqs := f.requests()
	require.Len(t, reqs, 1)
	body := reqs[0]
	assert.Equal(t, "test-model", body["model"])
	assert.Equal(t, 0.0, body["temperature"])
	assert.Equal(t, 7.0, body["seed"])
	assert.Equal(t, float64(DefaultMaxTokens), body["max_tokens"])
	ps := parts(t, body)
	require.Len(t, ps, 4)
	want, err := (*Prompts)(nil).Render(PromptCaptionImages, CaptionData{Count: 3})
	require.NoError(t, err)
	assert.Equal(t, "text", ps[0]["type"])
	assert.Equal(t, want, ps[0]["text"])
	assert.Contains(t, want, "You will see 3 images")
	mime, got := dataURL(t, ps[1])
	assert.Equal(t, "image/png", mime)
	assert.Equal(t, b1, got)
	_, got = dataURL(t, ps[2])
	assert.Equal(t, b2, got)
	assert.Equal(t, "https://example.test/c.jpg", ps[3]["image_url"].(map[string]any)["url"])
	// Structured output in the OpenAI form: the schema under json_schema.schema (the
	// location llama.cpp's server reads).
	rf := body["response_format"].(map[string]any)
	assert.Equal(t, "json_schema", rf["type"])
	js := rf["json_schema"].(map[string]any)
	assert.Equal(t, "profile", js["name"])
	assert.Equal(t, true, js["strict"])
	assert.Equal(t, "object", js["schema"].(map[string]any)["type"])
	assert.Equal(t, Stats{Requests: 1}, c.Stats())
}

func TestRetriesHonourRetryAfter(t *testing.T) {
	f := newFake(t, status(429, map[string]string{"Retry-After": "1"}, `{"error":{"message":"slow down"}}`), reply("ok", "stop"))
	c := f.client(t, Options{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Second})
	t0 := time.Now()
	r, err := c.Complete(context.Background(), Request{Prompt: "hi"})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(t0), time.Second, "Retry-After: 1 was not honoured")
	assert.Equal(t, "ok", r.Text)
	assert.Equal(t, 2, r.Attempts)
	assert.Equal(t, Stats{Requests: 2, Retries: 1}, c.Stats())
}

func TestRetryAfterMsAndDate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := http.Header{}
	h.Set("Retry-After-Ms", "250")
	assert.Equal(t, 250*time.Millisecond, parseRetryAfter(h, now))
	h = http.Header{}
	h.Set("Retry-After", now.Add(3*time.Second).Format(http.TimeFormat))
	assert.Equal(t, 3*time.Second, parseRetryAfter(h, now))
	h.Set("Retry-After", "soon")
	assert.Equal(t, time.Duration(0), parseRetryAfter(h, now))
	assert.Equal(t, 2*time.Second, backoff(time.Millisecond, 2*time.Second, 1, time.Minute), "Retry-After is capped at MaxBackoff")
	for attempt := 1; attempt <= 6; attempt++ {
		full := min(100*time.Millisecond<<(attempt-1), time.Second)
		d := backoff(100*time.Millisecond, time.Second, attempt, 0)
		assert.True(t, d >= full/2 && d <= full, "attempt %d: %v outside [%v, %v]", attempt, d, full/2, full)
	}
}

func TestServerErrorsAreRetriedThenReported(t *testing.T) {
	f := newFake(t, status(500, nil, `{"error":{"message":"boom"}}`), status(503, nil, `oops`), reply("fine", "stop"))
	c := f.client(t, Options{})
	r, err := c.Complete(context.Background(), Request{Prompt: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "fine", r.Text)
	assert.Equal(t, Stats{Requests: 3, Retries: 2}, c.Stats())

	f = newFake(t)
	f.fallback = status(500, nil, `{"error":{"message":"down"}}`)
	c = f.client(t, Options{Attempts: 3})
	_, err = c.Complete(context.Background(), Request{Prompt: "hi"})
	require.ErrorIs(t, err, ErrRequest)
	assert.Contains(t, err.Error(), "after 3 attempts")
	assert.Equal(t, Stats{Requests: 3, Retries: 2}, c.Stats())
	assert.Len(t, f.requests(), 3)
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	f := newFake(t, status(401, nil, `{"error":{"message":"bad key"}}`))
	c := f.client(t, Options{})
	_, err := c.Complete(context.Background(), Request{Prompt: "hi"})
	require.ErrorIs(t, err, ErrRequest)
	assert.Equal(t, Stats{Requests: 1}, c.Stats())
}

func TestSlowReplyPastTheTimeoutIsRetried(t *testing.T) {
	f := newFake(t, slow(10*time.Second, reply("late", "stop")), reply("on time", "stop"))
	c := f.client(t, Options{Timeout: 200 * time.Millisecond})
	t0 := time.Now()
	r, err := c.Complete(context.Background(), Request{Prompt: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "on time", r.Text)
	assert.Less(t, time.Since(t0), 5*time.Second)
	assert.Equal(t, Stats{Requests: 2, Retries: 1}, c.Stats())

	f = newFake(t)
	f.fallback = slow(10*time.Second, reply("late", "stop"))
	c = f.client(t, Options{Timeout: 100 * time.Millisecond, Attempts: 2})
	_, err = c.Complete(context.Background(), Request{Prompt: "hi"})
	require.ErrorIs(t, err, ErrRequest)
	assert.Contains(t, err.Error(), "no reply within 100ms")
}

func TestDroppedConnectionMidBodyIsRetried(t *testing.T) {
	f := newFake(t, drop("never whole"), reply("whole", "stop"))
	c := f.client(t, Options{})
	r, err := c.Complete(context.Background(), Request{Prompt: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "whole", r.Text)
	assert.Equal(t, Stats{Requests: 2, Retries: 1}, c.Stats())
}

func TestCancelStopsRetrying(t *testing.T) {
	f := newFake(t)
	f.fallback = status(429, map[string]string{"Retry-After": "30"}, `{}`)
	c := f.client(t, Options{MaxBackoff: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := c.Complete(ctx, Request{Prompt: "hi"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(t0), 2*time.Second)
	assert.Equal(t, int64(1), c.Stats().Requests)
}

func TestCacheAnswersARerun(t *testing.T) {
	dir := t.TempDir()
	img, _ := writePNG(t, dir, "a.png", 8, 8)
	cache := filepath.Join(dir, "cache")
	f := newFake(t, reply("first", "stop"), reply("second", "stop"), reply("third", "stop"))
	req := Request{Prompt: "hi", Images: []Image{ImageFile(img)}}

	c := f.client(t, Options{CacheDir: cache})
	r1, err := c.Complete(context.Background(), req)
	require.NoError(t, err)
	assert.False(t, r1.Cached)
	// A new client on the same folder (a rerun) sends nothing.
	c2 := f.client(t, Options{CacheDir: cache})
	r2, err := c2.Complete(context.Background(), req)
	require.NoError(t, err)
	assert.True(t, r2.Cached)
	assert.Equal(t, "first", r2.Text)
	assert.Equal(t, r1.Key, r2.Key)
	assert.Equal(t, Stats{CacheHits: 1}, c2.Stats())
	assert.Len(t, f.requests(), 1)

	// Any part of the request changes the key: the sampling seed, the image's bytes.
	c3 := f.client(t, Options{CacheDir: cache, Seed: 1})
	r3, err := c3.Complete(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "second", r3.Text)
	_, _ = writePNG(t, dir, "a.png", 9, 8)
	r4, err := c2.Complete(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "third", r4.Text)
	assert.Equal(t, Stats{CacheHits: 1, Requests: 1}, c2.Stats())

	var files []string
	require.NoError(t, filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, filepath.Base(p))
		}
		return err
	}))
	assert.Len(t, files, 3)
	for _, n := range files {
		assert.True(t, strings.HasSuffix(n, ".json") && !strings.HasPrefix(n, "."), n)
	}
}

func TestStructuredOutputFallsBackToPlainText(t *testing.T) {
	f := newFake(t,
		status(400, nil, `{"error":{"message":"response_format json_schema is not supported","type":"invalid_request_error"}}`),
		reply(`Sure! {"subject": "dogs"}`, "stop"),
		reply(`{"summary": "again"}`, "stop"))
	c := f.client(t, Options{})
	p, err := c.DescribeUser(context.Background(), []Image{ImageURL("https://example.test/a.png")}, nil)
	require.NoError(t, err)
	assert.Equal(t, "dogs", p.Subject)
	_, err = c.DescribeUser(context.Background(), []Image{ImageURL("https://example.test/b.png")}, nil)
	require.NoError(t, err)
	reqs := f.requests()
	require.Len(t, reqs, 3)
	assert.Contains(t, reqs[0], "response_format")
	assert.NotContains(t, reqs[1], "response_format")
	assert.NotContains(t, reqs[2], "response_format", "the client remembers the refusal")
	assert.Equal(t, Stats{Requests: 3, Fallbacks: 1}, c.Stats())
}

func TestTooManyImagesAreRefusedBeforeSending(t *testing.T) {
	f := newFake(t)
	c := f.client(t, Options{Server: ServerVLLM})
	assert.Equal(t, 1, c.MaxImages(), "vLLM's default is one image per prompt")
	_, err := c.Complete(context.Background(), Request{Prompt: "hi", Images: []Image{ImageURL("https://a.test/1"), ImageURL("https://a.test/2")}})
	require.ErrorIs(t, err, ErrTooManyImages)
	assert.Contains(t, err.Error(), "--limit-mm-per-prompt")
	assert.Empty(t, f.requests())
}

func TestOversizeImagesAreShrunkOrRefused(t *testing.T) {
	dir := t.TempDir()
	big, _ := writePNG(t, dir, "wide.png", 3000, 200)
	f := newFake(t, reply("ok", "stop"))
	c := f.client(t, Options{})
	_, err := c.Complete(context.Background(), Request{Prompt: "hi", Images: []Image{ImageFile(big)}})
	require.NoError(t, err)
	mime, b := dataURL(t, parts(t, f.requests()[0])[1])
	assert.Equal(t, "image/jpeg", mime)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, DefaultMaxImageSide, cfg.Width)
	assert.Equal(t, 68, cfg.Height) // 200·1024/3000, rounded down

	c = f.client(t, Options{RefuseOversize: true})
	_, err = c.Complete(context.Background(), Request{Prompt: "hi", Images: []Image{ImageFile(big)}})
	require.ErrorIs(t, err, ErrImageTooLarge)
	assert.Contains(t, err.Error(), "wide.png")
	assert.Contains(t, err.Error(), "3000×200")

	c = f.client(t, Options{MaxImageBytes: 50})
	_, err = c.Complete(context.Background(), Request{Prompt: "hi", Images: []Image{ImageFile(big)}})
	require.ErrorIs(t, err, ErrImageTooLarge)
	assert.Len(t, f.requests(), 1, "nothing more was sent")

	_, err = c.Complete(context.Background(), Request{Prompt: "hi", Images: []Image{{Data: []byte("not an image")}}})
	require.ErrorIs(t, err, ErrImage)
}

func TestOptionsAreValidated(t *testing.T) {
	for _, tc := range []struct {
		o     *Options
		field string
	}{
		{nil, "Options.Model"},
		{&Options{}, "Options.Model"},
		{&Options{Model: "m", Server: "tgi"}, "Options.Server"},
		{&Options{Model: "m", Timeout: -1}, "Options.Timeout"},
		{&Options{Model: "m", Attempts: -1}, "Options.Attempts"},
		{&Options{Model: "m", Concurrency: -2}, "Options.Concurrency"},
		{&Options{Model: "m", InitialBackoff: time.Minute, MaxBackoff: time.Second}, "Options.InitialBackoff"},
		{&Options{Model: "m", MaxImageSide: 10}, "Options.MaxImageSide"},
		{&Options{Model: "m", MaxImageBytes: -1}, "Options.MaxImageBytes"},
		{&Options{Model: "m", Temperature: 3}, "Options.Temperature"},
	} {
		_, err := New(tc.o)
		require.ErrorIs(t, err, ErrInvalidOptions, tc.field)
		assert.Contains(t, err.Error(), "vlm: invalid options: "+tc.field)
	}
}

func TestDefaultsFromTheEnvironmentAndProfile(t *testing.T) {
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("MY_KEY", "secret")
	c, err := New(&Options{Model: "llava", Server: ServerOllama})
	require.NoError(t, err)
	o := c.Options()
	assert.Equal(t, "http://localhost:11434/v1", o.BaseURL)
	assert.Equal(t, "ollama", o.APIKey)
	assert.Equal(t, DefaultAttempts, o.Attempts)
	assert.Equal(t, DefaultTimeout, o.Timeout)
	c, err = New(&Options{Model: "m", APIKeyEnv: "MY_KEY"})
	require.NoError(t, err)
	assert.Equal(t, "secret", c.Options().APIKey)
	t.Setenv("OPENAI_BASE_URL", "http://gpu:8000/v1")
	c, err = New(&Options{Model: "m", Server: ServerVLLM})
	require.NoError(t, err)
	assert.Equal(t, "http://gpu:8000/v1", c.Options().BaseURL)
}

func TestConcurrencyIsBounded(t *testing.T) {
	var inFlight, peak int64
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	f := newFake(t)
	f.fallback = func(w http.ResponseWriter, r *http.Request) {
		<-mu
		inFlight++
		peak = max(peak, inFlight)
		mu <- struct{}{}
		time.Sleep(30 * time.Millisecond)
		<-mu
		inFlight--
		mu <- struct{}{}
		reply("ok", "stop")(w, r)
	}
	c := f.client(t, Options{Concurrency: 2})
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			_, err := c.Complete(context.Background(), Request{Prompt: strings.Repeat("x", i)})
			errs <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, int64(2), peak)
}

var _ = errors.Is
