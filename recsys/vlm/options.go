package vlm

import (
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Client defaults.
const (
	// DefaultTimeout bounds one attempt of one request: a 12B model scoring ten images on one
	// GPU takes tens of seconds.
	DefaultTimeout = 120 * time.Second
	// DefaultAttempts is the number of tries of a request (the first and four retries).
	DefaultAttempts = 5
	// DefaultInitialBackoff is the wait before the first retry; it doubles on each retry, up
	// to DefaultMaxBackoff, and is jittered (a random part of it is taken off).
	DefaultInitialBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the wait between tries, Retry-After included.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultConcurrency is the number of requests in flight at once.
	DefaultConcurrency = 4
	// DefaultMaxTokens bounds a reply: ten scores with a sentence of explanation each fit
	// with room to spare.
	DefaultMaxTokens = 1024
	// DefaultMaxImageBytes is the largest image sent as is (20 MiB, the OpenAI vision limit
	// per image; unverified for the other servers).
	DefaultMaxImageBytes = 20 << 20
	// DefaultMaxImageSide is the longest side sent: larger images are shrunk to it before
	// sending. 1024 is Pixtral-12B's largest native image size (its vision encoder's
	// image_size; unverified), so a larger image only costs tokens.
	DefaultMaxImageSide = 1024
	// DefaultAPIKeyEnv is the environment variable holding the API key.
	DefaultAPIKeyEnv = "OPENAI_API_KEY"
	// BaseURLEnv is read when Options.BaseURL is empty.
	BaseURLEnv = "OPENAI_BASE_URL"
)

// Options configure a Client. Nil is not allowed (Model is required); zero fields mean the
// defaults above and the server profile's.
type Options struct {
	// BaseURL is the API root, e.g. "http://localhost:8000/v1"; empty means $OPENAI_BASE_URL,
	// then the profile's usual address.
	BaseURL string
	// Model is the served model's name (required), e.g. "mistralai/Pixtral-12B-2409".
	Model string
	// APIKey is sent as the bearer token; empty means the environment variable APIKeyEnv
	// (default OPENAI_API_KEY), then the profile's placeholder, then none.
	APIKey    string
	APIKeyEnv string
	// Server selects the profile of known quirks (ServerOpenAI by default).
	Server Server
	// Timeout bounds each attempt (DefaultTimeout); a timed-out attempt is retried.
	Timeout time.Duration
	// Attempts is the number of tries of a request, retries included (DefaultAttempts); 1
	// means no retry. Retried: 408, 409, 429, 5xx, timeouts, dropped connections.
	Attempts int
	// InitialBackoff and MaxBackoff shape the wait between tries (exponential, jittered; a
	// Retry-After or retry-after-ms header replaces it, capped at MaxBackoff).
	InitialBackoff, MaxBackoff time.Duration
	// Concurrency bounds the requests in flight at once across goroutines (DefaultConcurrency).
	Concurrency int
	// CacheDir, when set, keeps every reply in a file named by the SHA-256 of the whole
	// request (model, messages with the images' bytes, sampling parameters, schema), so that a
	// rerun sends nothing. The folder is created when missing.
	CacheDir string
	// MaxImages overrides the profile's images per request (0: the profile's; vLLM's is 1,
	// raise it to what --limit-mm-per-prompt allows).
	MaxImages int
	// MaxImageBytes and MaxImageSide are the server's size limits (DefaultMaxImageBytes,
	// DefaultMaxImageSide). A local image over either is shrunk (longest side to
	// MaxImageSide, then halved until under MaxImageBytes) and re-encoded as JPEG, or refused
	// with ErrImageTooLarge when RefuseOversize is set. URL images are sent as they are.
	MaxImageBytes  int64
	MaxImageSide   int
	RefuseOversize bool
	// Temperature and Seed are sent with every request. The zero temperature (greedy
	// decoding) is the default, so that the cache and reruns agree.
	Temperature float64
	Seed        int64
	// MaxTokens bounds each reply (DefaultMaxTokens).
	MaxTokens int
	// HTTPClient replaces http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives one line per retry and fallback (nil: none).
	Logger *slog.Logger
}

// resolve returns the options with the defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *Options) resolve() (Options, ServerProfile, error) {
	const typ = "Options"
	if o == nil {
		return Options{}, ServerProfile{}, invalidf(typ, "Model", "required (nil options)")
	}
	r := *o
	prof, err := ProfileOf(r.Server)
	if err != nil {
		return r, prof, err
	}
	r.Server = prof.Server
	if r.Model == "" {
		return r, prof, invalidf(typ, "Model", "required")
	}
	if r.BaseURL == "" {
		r.BaseURL = os.Getenv(BaseURLEnv)
	}
	if r.BaseURL == "" {
		r.BaseURL = prof.DefaultBaseURL
	}
	if r.APIKeyEnv == "" {
		r.APIKeyEnv = DefaultAPIKeyEnv
	}
	if r.APIKey == "" {
		r.APIKey = os.Getenv(r.APIKeyEnv)
	}
	if r.APIKey == "" {
		r.APIKey = prof.DefaultAPIKey
	}
	type dur struct {
		field string
		p     *time.Duration
		def   time.Duration
	}
	for _, d := range []dur{{"Timeout", &r.Timeout, DefaultTimeout}, {"InitialBackoff", &r.InitialBackoff, DefaultInitialBackoff}, {"MaxBackoff", &r.MaxBackoff, DefaultMaxBackoff}} {
		switch {
		case *d.p < 0:
			return r, prof, invalidf(typ, d.field, "%v is negative", *d.p)
		case *d.p == 0:
			*d.p = d.def
		}
	}
	if r.InitialBackoff > r.MaxBackoff {
		return r, prof, invalidf(typ, "InitialBackoff", "%v is above MaxBackoff %v", r.InitialBackoff, r.MaxBackoff)
	}
	type num struct {
		field string
		p     *int
		def   int
	}
	for _, n := range []num{{"Attempts", &r.Attempts, DefaultAttempts}, {"Concurrency", &r.Concurrency, DefaultConcurrency}, {"MaxTokens", &r.MaxTokens, DefaultMaxTokens}, {"MaxImages", &r.MaxImages, prof.MaxImages}, {"MaxImageSide", &r.MaxImageSide, DefaultMaxImageSide}} {
		switch {
		case *n.p < 0:
			return r, prof, invalidf(typ, n.field, "%d is negative", *n.p)
		case *n.p == 0:
			*n.p = n.def
		}
	}
	if r.MaxImageSide < minImageSide {
		return r, prof, invalidf(typ, "MaxImageSide", "%d is below %d pixels", r.MaxImageSide, minImageSide)
	}
	switch {
	case r.MaxImageBytes < 0:
		return r, prof, invalidf(typ, "MaxImageBytes", "%d is negative", r.MaxImageBytes)
	case r.MaxImageBytes == 0:
		r.MaxImageBytes = DefaultMaxImageBytes
	}
	if r.Temperature < 0 || r.Temperature > 2 {
		return r, prof, invalidf(typ, "Temperature", "%g is outside [0, 2]", r.Temperature)
	}
	if r.HTTPClient == nil {
		r.HTTPClient = http.DefaultClient
	}
	return r, prof, nil
}
