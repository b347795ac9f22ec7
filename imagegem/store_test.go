package imagegem

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pngBytes(t *testing.T, w int) []byte {
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewGray(image.Rect(0, 0, w, 2))))
	return b.Bytes()
}

// imageServer serves /ok/N (a PNG N pixels wide), /flaky (500 twice, then a PNG), /html,
// /fake (image/png that is not one), /big and /missing, counting requests and the most in
// flight at once.
type imageServer struct {
	*httptest.Server
	hits, inFlight, maxInFlight atomic.Int64
	flaky                       atomic.Int64
}

func newImageServer(t *testing.T) *imageServer {
	s := &imageServer{}
	mux := http.NewServeMux()
	slow := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			s.hits.Add(1)
			n := s.inFlight.Add(1)
			for {
				m := s.maxInFlight.Load()
				if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			s.inFlight.Add(-1)
			h(w, r)
		}
	}
	mux.HandleFunc("/ok/{n}", slow(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		n := len(r.PathValue("n"))
		_, _ = w.Write(pngBytes(t, n))
	}))
	mux.HandleFunc("/same", slow(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pngBytes(t, 1))
	}))
	mux.HandleFunc("/flaky", slow(func(w http.ResponseWriter, r *http.Request) {
		if s.flaky.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pngBytes(t, 3))
	}))
	mux.HandleFunc("/html", slow(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	}))
	mux.HandleFunc("/fake", slow(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("not a png at all"))
	}))
	mux.HandleFunc("/big", slow(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(make([]byte, 10000))
	}))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestStoreFetchChecksRetriesAndResumes(t *testing.T) {
	srv := newImageServer(t)
	dir := t.TempDir()
	local := filepath.Join(t.TempDir(), "local.png")
	require.NoError(t, os.WriteFile(local, pngBytes(t, 5), 0o644))
	var imgs []Image
	for i := 0; i < 20; i++ {
		imgs = append(imgs, Image{ID: int64(i + 1), URL: srv.URL + "/ok/" + string(bytes.Repeat([]byte("x"), i+1))})
	}
	imgs = append(imgs,
		Image{ID: 100, URL: srv.URL + "/flaky"},
		Image{ID: 101, URL: srv.URL + "/html"},
		Image{ID: 102, URL: srv.URL + "/fake"},
		Image{ID: 103, URL: srv.URL + "/big"},
		Image{ID: 104, URL: srv.URL + "/missing"},
		Image{ID: 105, URL: (&url.URL{Scheme: "file", Path: filepath.ToSlash(local)}).String()},
		Image{ID: 106, URL: srv.URL + "/same"},
		Image{ID: 107, URL: srv.URL + "/same"},
	)
	var mu sync.Mutex
	var last Progress
	s, err := OpenStore(dir, &StoreOptions{Concurrency: 3, Backoff: time.Millisecond, MaxBytes: 5000,
		Progress: func(p Progress) { mu.Lock(); last = p; mu.Unlock() }})
	require.NoError(t, err)
	rep, err := s.Fetch(t.Context(), imgs)
	require.NoError(t, err)
	assert.Equal(t, 24, rep.Fetched, "20 + flaky + local + two of the same bytes")
	assert.Equal(t, 4, rep.Failed, "%v", rep.Failures)
	assert.LessOrEqual(t, srv.maxInFlight.Load(), int64(3), "bounded concurrency")
	assert.Equal(t, Progress{Stage: "fetch", Done: len(imgs), Total: len(imgs)}, last)
	assert.Equal(t, int64(3), srv.flaky.Load(), "two 503s, then the image")

	for _, id := range []int64{1, 20, 100, 105, 106, 107} {
		p, ok := s.Path(id)
		require.True(t, ok, id)
		_, err := png.DecodeConfig(mustOpen(t, p))
		assert.NoError(t, err)
	}
	p106, _ := s.Path(106)
	p107, _ := s.Path(107)
	assert.Equal(t, p106, p107, "content-addressed: the same bytes once")
	for _, id := range []int64{101, 102, 103, 104} {
		_, ok := s.Path(id)
		assert.False(t, ok, id)
	}

	// Resume: a second fill downloads only what failed.
	hits := srv.hits.Load()
	rep, err = s.Fetch(t.Context(), imgs)
	require.NoError(t, err)
	assert.Equal(t, 24, rep.Present)
	assert.Equal(t, 0, rep.Fetched)
	// /html, /fake and /big are asked once each, not retried (/missing is not counted: it
	// has no handler).
	assert.Equal(t, hits+3, srv.hits.Load())
}

func mustOpen(t *testing.T, p string) *os.File {
	f, err := os.Open(p)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func TestStoreCancelLeavesOnlyWholeImages(t *testing.T) {
	srv := newImageServer(t)
	var imgs []Image
	for i := 0; i < 200; i++ {
		imgs = append(imgs, Image{ID: int64(i + 1), URL: srv.URL + "/ok/xx"})
	}
	s, err := OpenStore(t.TempDir(), &StoreOptions{Concurrency: 2})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := s.Fetch(ctx, imgs)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Less(t, rep.Fetched, 200)
	n := 0
	for _, im := range imgs {
		if _, ok := s.Path(im.ID); ok {
			n++
		}
	}
	assert.Equal(t, rep.Fetched, n, "what the report counts is there, whole")
	_, err = OpenStore(t.TempDir(), &StoreOptions{Concurrency: -1})
	require.ErrorIs(t, err, ErrInvalidOptions)
}

func TestStoreFetchesAFolderRelease(t *testing.T) {
	dir := userFolder(t)
	out := filepath.Join(t.TempDir(), "release")
	_, err := IngestFolder(t.Context(), dir, out, nil)
	require.NoError(t, err)
	rel, err := Open(t.Context(), out, nil)
	require.NoError(t, err)
	defer rel.Close()
	s, err := OpenStore(t.TempDir(), nil)
	require.NoError(t, err)
	rep, err := s.FetchRelease(t.Context(), rel)
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Fetched, "%v", rep.Failures)
}
