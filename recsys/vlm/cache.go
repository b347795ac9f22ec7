package vlm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
)

// cacheEntry is one cached reply on disk.
type cacheEntry struct {
	Model        string `json:"model"`
	Text         string `json:"text"`
	FinishReason string `json:"finish_reason"`
	Structured   bool   `json:"structured"`
}

func (c *Client) cachePath(key string) string {
	return filepath.Join(c.opts.CacheDir, key[:2], key+".json")
}

// cacheGet returns the cached reply of key. An unreadable entry is a miss (it is rewritten).
func (c *Client) cacheGet(key string) (Reply, bool) {
	if c.opts.CacheDir == "" {
		return Reply{}, false
	}
	b, err := os.ReadFile(c.cachePath(key))
	if err != nil {
		return Reply{}, false
	}
	var e cacheEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return Reply{}, false
	}
	return Reply{Text: e.Text, FinishReason: e.FinishReason, Truncated: e.FinishReason == "length", Cached: true, Structured: e.Structured, Key: key}, true
}

// cachePut stores a reply through internal/atomicfile.
func (c *Client) cachePut(ctx context.Context, key string, r Reply) error {
	if c.opts.CacheDir == "" {
		return nil
	}
	p := c.cachePath(key)
	if err := os.MkdirAll(filepath.Dir(p), atomicfile.DirMode); err != nil {
		return fmt.Errorf("vlm: cache: %w", err)
	}
	b, err := json.Marshal(cacheEntry{Model: c.opts.Model, Text: r.Text, FinishReason: r.FinishReason, Structured: r.Structured})
	if err != nil {
		return fmt.Errorf("vlm: cache: %w", err)
	}
	if err := atomicfile.WriteFile(ctx, p, b, nil); err != nil {
		return fmt.Errorf("vlm: cache: %w", err)
	}
	return nil
}
