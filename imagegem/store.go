// The image store: images addressed by image id in a local content-addressed cache.

package imagegem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "image/gif" // the decoders the store's decode check needs
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/progress"
)

// Store defaults.
const (
	DefaultStoreConcurrency = 8
	DefaultStoreRetries     = 3
	DefaultStoreBackoff     = 500 * time.Millisecond
	// DefaultStoreMaxBytes bounds one image: Civitai's originals are a few MiB.
	DefaultStoreMaxBytes = 64 << 20
)

// ErrNotImage reports fetched bytes that are not an image: a content type other than
// image/*, or bytes that no decoder reads.
var ErrNotImage = errors.New("not an image")

// StoreOptions configure [OpenStore]. Nil and the zero value mean the defaults.
type StoreOptions struct {
	// Concurrency bounds the downloads in flight; 0 means DefaultStoreConcurrency.
	Concurrency int
	// Retries is how many times a failed download is tried again (network errors, 5xx,
	// 429), waiting Backoff, then twice that, …; 0 means DefaultStoreRetries, negative none.
	Retries int
	// Backoff is the first wait between tries; 0 means DefaultStoreBackoff.
	Backoff time.Duration
	// MaxBytes bounds one image; 0 means DefaultStoreMaxBytes. Larger images fail (a
	// declared Content-Length is refused before the body is read).
	MaxBytes int64
	// Client makes the requests; nil means a client with a one-minute timeout.
	Client *http.Client
	// Progress, when set, receives stage "fetch" after each image, Done and Total counting
	// images.
	Progress func(Progress)
}

func (o *StoreOptions) resolve() (StoreOptions, error) {
	var r StoreOptions
	if o != nil {
		r = *o
	}
	switch {
	case r.Concurrency < 0:
		return r, invalid("StoreOptions", "Concurrency", "%d is negative", r.Concurrency)
	case r.Backoff < 0:
		return r, invalid("StoreOptions", "Backoff", "%v is negative", r.Backoff)
	case r.MaxBytes < 0:
		return r, invalid("StoreOptions", "MaxBytes", "%d is negative", r.MaxBytes)
	}
	if r.Concurrency == 0 {
		r.Concurrency = DefaultStoreConcurrency
	}
	if r.Retries == 0 {
		r.Retries = DefaultStoreRetries
	} else if r.Retries < 0 {
		r.Retries = 0
	}
	if r.Backoff == 0 {
		r.Backoff = DefaultStoreBackoff
	}
	if r.MaxBytes == 0 {
		r.MaxBytes = DefaultStoreMaxBytes
	}
	if r.Client == nil {
		r.Client = &http.Client{Timeout: time.Minute}
	}
	return r, nil
}

// Store is a local cache of image files addressed by image id. The bytes live once under
// objects/ab/<sha256> whatever the number of images that share them, and ids/<imageId>
// names the object of each image; both are written atomically, so an interrupted fill leaves
// only whole images and a later one resumes where it stopped. Safe for concurrent use.
type Store struct {
	dir  string
	opts StoreOptions
}

// OpenStore opens (creating) the store in dir.
func OpenStore(dir string, opts *StoreOptions) (*Store, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"objects", "ids"} {
		if err := os.MkdirAll(filepath.Join(dir, d), atomicfile.DirMode); err != nil {
			return nil, fmt.Errorf("imagegem: store: %w", err)
		}
	}
	return &Store{dir: dir, opts: o}, nil
}

func (s *Store) idPath(id int64) string {
	return filepath.Join(s.dir, "ids", strconv.FormatInt(id, 10))
}

func (s *Store) objectPath(sum string) string {
	return filepath.Join(s.dir, "objects", sum[:2], sum)
}

// Path returns the file holding the image's bytes, and whether the store has it.
func (s *Store) Path(imageID int64) (string, bool) {
	b, err := os.ReadFile(s.idPath(imageID))
	if err != nil {
		return "", false
	}
	sum := strings.TrimSpace(string(b))
	if len(sum) != 64 {
		return "", false
	}
	p := s.objectPath(sum)
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

// Put stores an image's bytes read from r, after the size and decode checks.
func (s *Store) Put(ctx context.Context, imageID int64, r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, s.opts.MaxBytes+1))
	if err != nil {
		return "", fmt.Errorf("imagegem: store: image %d: %w", imageID, err)
	}
	return s.put(ctx, imageID, b)
}

func (s *Store) put(ctx context.Context, imageID int64, b []byte) (string, error) {
	if int64(len(b)) > s.opts.MaxBytes {
		return "", fmt.Errorf("imagegem: store: image %d: over %d bytes", imageID, s.opts.MaxBytes)
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil {
		return "", fmt.Errorf("imagegem: store: image %d: %w: %v", imageID, ErrNotImage, err)
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	p := s.objectPath(h)
	if _, err := os.Stat(p); err != nil {
		if err := os.MkdirAll(filepath.Dir(p), atomicfile.DirMode); err != nil {
			return "", fmt.Errorf("imagegem: store: %w", err)
		}
		if err := atomicfile.WriteFile(ctx, p, b, nil); err != nil {
			return "", fmt.Errorf("imagegem: store: %w", err)
		}
	}
	if err := atomicfile.WriteFile(ctx, s.idPath(imageID), []byte(h+"\n"), nil); err != nil {
		return "", fmt.Errorf("imagegem: store: %w", err)
	}
	return p, nil
}

// StoreReport counts what [Store.Fetch] did.
type StoreReport struct {
	// Fetched images were downloaded or copied now, Present ones were in the store
	// already, Failed ones could not be had (Failures lists "imageId url: error", the first
	// 100).
	Fetched, Present, Failed int
	Bytes                    int64
	Failures                 []string
}

// Fetch fills the store with the images: each from its URL (http, https, or file:// for a
// local path, as IngestFolder writes them), with at most Concurrency downloads at once,
// retries with backoff, the size limit, and the content-type and decode checks. Images in
// the store already are skipped, so a second call resumes an interrupted one. A failed image
// is reported, not an error; the error is the context's.
func (s *Store) Fetch(ctx context.Context, imgs []Image) (StoreReport, error) {
	var (
		rep  StoreReport
		mu   sync.Mutex
		wg   sync.WaitGroup
		done int
	)
	report := progress.Func(s.opts.Progress)
	jobs := make(chan Image)
	for i := 0; i < s.opts.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for img := range jobs {
				n, present, err := s.fetchOne(ctx, img)
				mu.Lock()
				switch {
				case present:
					rep.Present++
				case err != nil && ctx.Err() == nil:
					rep.Failed++
					if len(rep.Failures) < maxProblems {
						rep.Failures = append(rep.Failures, fmt.Sprintf("%d %s: %v", img.ID, img.URL, err))
					}
				case err == nil:
					rep.Fetched++
					rep.Bytes += n
				}
				done++
				report.Report(Progress{Stage: "fetch", Done: done, Total: len(imgs)})
				mu.Unlock()
			}
		}()
	}
	seen := map[int64]bool{}
feed:
	for _, img := range imgs {
		if seen[img.ID] {
			continue
		}
		seen[img.ID] = true
		select {
		case jobs <- img:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("imagegem: store: %w", err)
	}
	return rep, nil
}

// FetchRelease fills the store with every image of a release.
func (s *Store) FetchRelease(ctx context.Context, r *Release) (StoreReport, error) {
	imgs, err := r.queryImages(ctx, "true", `"imageId", "modelVersionId"`)
	if err != nil {
		return StoreReport{}, err
	}
	return s.Fetch(ctx, imgs)
}

func (s *Store) fetchOne(ctx context.Context, img Image) (int64, bool, error) {
	if _, ok := s.Path(img.ID); ok {
		return 0, true, nil
	}
	u, err := url.Parse(img.URL)
	if err != nil {
		return 0, false, err
	}
	var b []byte
	switch u.Scheme {
	case "file":
		f, err := os.Open(filepath.FromSlash(u.Path))
		if err != nil {
			return 0, false, err
		}
		b, err = io.ReadAll(io.LimitReader(f, s.opts.MaxBytes+1))
		f.Close()
		if err != nil {
			return 0, false, err
		}
	case "http", "https":
		wait := s.opts.Backoff
		for try := 0; ; try++ {
			var retry bool
			b, retry, err = s.download(ctx, u.String())
			if err == nil || !retry || try >= s.opts.Retries {
				break
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, false, ctx.Err()
			case <-t.C:
			}
			wait *= 2
		}
		if err != nil {
			return 0, false, err
		}
	default:
		return 0, false, fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	if _, err := s.put(ctx, img.ID, b); err != nil {
		return 0, false, err
	}
	return int64(len(b)), false, nil
}

// download gets one URL; retry says whether a failure may pass on a later try.
func (s *Store) download(ctx context.Context, u string) ([]byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, err
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		return nil, retry, fmt.Errorf("HTTP %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if !strings.HasPrefix(mt, "image/") && mt != "application/octet-stream" {
			return nil, false, fmt.Errorf("%w: content type %q", ErrNotImage, ct)
		}
	}
	if resp.ContentLength > s.opts.MaxBytes {
		return nil, false, fmt.Errorf("%d bytes declared, over %d", resp.ContentLength, s.opts.MaxBytes)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxBytes+1))
	if err != nil {
		return nil, ctx.Err() == nil, err
	}
	if int64(len(b)) > s.opts.MaxBytes {
		return nil, false, fmt.Errorf("over %d bytes", s.opts.MaxBytes)
	}
	return b, false, nil
}
