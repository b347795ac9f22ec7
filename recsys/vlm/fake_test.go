package vlm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// action answers one request of the fake server.
type action func(w http.ResponseWriter, r *http.Request)

// fake is an in-process OpenAI-compatible server answering with a script, then with the
// fallback action. It records every request body it received.
type fake struct {
	*httptest.Server
	mu       sync.Mutex
	script   []action
	fallback action
	bodies   []map[string]any
}

func newFake(t *testing.T, script ...action) *fake {
	f := &fake{script: script, fallback: reply("{}", "stop")}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		f.mu.Lock()
		f.bodies = append(f.bodies, m)
		a := f.fallback
		if len(f.script) > 0 {
			a, f.script = f.script[0], f.script[1:]
		}
		f.mu.Unlock()
		if r.URL.Path != "/v1/chat/completions" {
			http.Error(w, "not found: "+r.URL.Path, http.StatusNotFound)
			return
		}
		a(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, m)))
	}))
	t.Cleanup(f.Close)
	return f
}

type bodyKey struct{}

// bodyOf returns the decoded body of a request the fake received.
func bodyOf(r *http.Request) map[string]any {
	m, _ := r.Context().Value(bodyKey{}).(map[string]any)
	return m
}

func (f *fake) requests() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.bodies...)
}

func (f *fake) client(t *testing.T, o Options) *Client {
	t.Helper()
	o.BaseURL = f.URL + "/v1"
	if o.Model == "" {
		o.Model = "test-model"
	}
	if o.InitialBackoff == 0 {
		o.InitialBackoff = time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.APIKey == "" {
		o.APIKey = "test-key"
	}
	c, err := New(&o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// completion is the JSON of a chat completion with one choice.
func completion(text, finish string) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
		"choices": []any{map[string]any{"index": 0, "finish_reason": finish,
			"message": map[string]any{"role": "assistant", "content": text}}},
	})
	return b
}

func reply(text, finish string) action {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(completion(text, finish))
	}
}

func status(code int, header map[string]string, body string) action {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// slow answers after d, or never when the client gives up first.
func slow(d time.Duration, then action) action {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			then(w, r)
		case <-r.Context().Done():
		}
	}
}

// drop promises a full body, sends half of it and closes the connection.
func drop(text string) action {
	return func(w http.ResponseWriter, r *http.Request) {
		body := completion(text, "stop")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(fmt.Sprint("hijack: ", err))
		}
		_ = conn.Close()
	}
}
