package vlm

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/openai/openai-go/v3"
)

// backoff is the wait before try attempt+1 (attempt ≥ 1): the server's Retry-After when it
// sent one, else initial·2^(attempt−1) with "equal jitter" (a uniform random half of it taken
// off, so that clients rejected together do not come back together); both capped at max.
func backoff(initial, max time.Duration, attempt int, after time.Duration) time.Duration {
	if after > 0 {
		return min(after, max)
	}
	d := initial
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// retryAfter reads the wait a server asked for in an error's response: retry-after-ms
// (OpenAI's), then Retry-After as seconds or an HTTP date. It returns 0 when there is none.
func retryAfter(err error) time.Duration {
	var apiErr *openai.Error
	if err == nil || !errors.As(err, &apiErr) || apiErr.Response == nil {
		return 0
	}
	return parseRetryAfter(apiErr.Response.Header, time.Now())
}

func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if ms := h.Get("Retry-After-Ms"); ms != "" {
		if v, err := strconv.ParseFloat(ms, 64); err == nil && v > 0 && v < 1e9 {
			return time.Duration(v * float64(time.Millisecond))
		}
	}
	ra := h.Get("Retry-After")
	if ra == "" {
		return 0
	}
	if v, err := strconv.ParseFloat(ra, 64); err == nil {
		if v > 0 && v < 1e6 {
			return time.Duration(v * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(ra); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
