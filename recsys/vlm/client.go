package vlm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// Request is one chat completion: an optional system message, then one user message made of
// the prompt text followed by the images, in order.
type Request struct {
	System string
	Prompt string
	Images []Image
	// Schema, when set, asks for structured output (response_format json_schema, named
	// SchemaName); the reply is then plain JSON. A server that refuses it gets the same
	// request in plain text.
	Schema     map[string]any
	SchemaName string
	// MaxTokens overrides Options.MaxTokens for this request.
	MaxTokens int
}

// Reply is a completion's text and how it was obtained.
type Reply struct {
	Text string
	// FinishReason is the server's ("stop", "length", …); Truncated is FinishReason "length".
	FinishReason string
	Truncated    bool
	// Cached reports a reply read from Options.CacheDir; Structured reports that the server
	// was asked for json_schema output (false after a fallback to plain text).
	Cached, Structured bool
	// Attempts is the number of HTTP requests this reply took (0 when cached).
	Attempts int
	// Key is the request's cache key (hex SHA-256).
	Key string
}

// Stats count what a Client did since it was made.
type Stats struct {
	// Requests are the HTTP requests sent, retries included; Retries the tries after a first
	// one; CacheHits the replies read from the cache; Fallbacks the requests resent in plain
	// text after the server refused structured output.
	Requests, Retries, CacheHits, Fallbacks int64
}

// Client talks to one model behind an OpenAI-compatible chat completions API. It is safe for
// concurrent use; Options.Concurrency bounds the requests in flight.
type Client struct {
	opts    Options
	profile ServerProfile
	api     openai.Client
	sem     chan struct{}
	// noSchema is set once the server has refused structured output.
	noSchema                                atomic.Bool
	requests, retries, cacheHits, fallbacks atomic.Int64
}

// New returns a client for the model. It sends nothing.
func New(opts *Options) (*Client, error) {
	o, prof, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	reqOpts := []option.RequestOption{
		option.WithBaseURL(o.BaseURL),
		option.WithMaxRetries(0), // retries are ours: counted, jittered, bounded by ctx
		option.WithHTTPClient(o.HTTPClient),
	}
	if o.APIKey != "" {
		reqOpts = append(reqOpts, option.WithAPIKey(o.APIKey))
	} else {
		reqOpts = append(reqOpts, option.WithHeaderDel("Authorization"))
	}
	return &Client{opts: o, profile: prof, api: openai.NewClient(reqOpts...), sem: make(chan struct{}, o.Concurrency)}, nil
}

// Options returns the resolved options (the API key included).
func (c *Client) Options() Options { return c.opts }

// ServerProfile returns the server profile in use.
func (c *Client) ServerProfile() ServerProfile { return c.profile }

// MaxImages is the most images one request may carry (0: no limit).
func (c *Client) MaxImages() int { return c.opts.MaxImages }

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), CacheHits: c.cacheHits.Load(), Fallbacks: c.fallbacks.Load()}
}

// Complete sends the request, or reads its reply from the cache. Images are read, checked
// against the size limits (shrunk or refused) and the image count checked before anything is
// sent. Errors wrap ErrTooManyImages, ErrImageTooLarge, ErrImage, ErrRequest or ctx.Err().
func (c *Client) Complete(ctx context.Context, req Request) (Reply, error) {
	if max := c.opts.MaxImages; max > 0 && len(req.Images) > max {
		return Reply{}, fmt.Errorf("%w: %d images, the server takes %d (Options.MaxImages; vLLM: --limit-mm-per-prompt)", ErrTooManyImages, len(req.Images), max)
	}
	parts := make([]openai.ChatCompletionContentPartUnionParam, 0, 1+len(req.Images))
	parts = append(parts, openai.TextContentPart(req.Prompt))
	for i, im := range req.Images {
		url, err := c.imageURL(ctx, im)
		if err != nil {
			return Reply{}, fmt.Errorf("image %d: %w", i, err)
		}
		parts = append(parts, openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: url}))
	}
	var msgs []openai.ChatCompletionMessageParamUnion
	if req.System != "" {
		msgs = append(msgs, openai.SystemMessage(req.System))
	}
	msgs = append(msgs, openai.UserMessage(parts))
	maxTokens := c.opts.MaxTokens
	if req.MaxTokens > 0 {
		maxTokens = req.MaxTokens
	}
	params := openai.ChatCompletionNewParams{
		Model:       shared.ChatModel(c.opts.Model),
		Messages:    msgs,
		Temperature: openai.Float(c.opts.Temperature),
		Seed:        openai.Int(c.opts.Seed),
		MaxTokens:   openai.Int(int64(maxTokens)),
	}
	if req.Schema != nil {
		name := req.SchemaName
		if name == "" {
			name = "reply"
		}
		params.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: name, Schema: req.Schema, Strict: openai.Bool(true)},
		}}
	}
	body, err := json.Marshal(params)
	if err != nil {
		return Reply{}, fmt.Errorf("%w: encode: %v", ErrRequest, err)
	}
	sum := sha256.Sum256(body)
	key := hex.EncodeToString(sum[:])
	if r, ok := c.cacheGet(key); ok {
		c.cacheHits.Add(1)
		return r, nil
	}

	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return Reply{}, ctx.Err()
	}
	defer func() { <-c.sem }()

	structured := req.Schema != nil && c.profile.StructuredOutput && !c.noSchema.Load()
	if !structured {
		params.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{}
	}
	r, err := c.send(ctx, params)
	if structured && isSchemaRefusal(err) {
		c.noSchema.Store(true)
		c.fallbacks.Add(1)
		c.log("structured output refused; asking for plain text", "error", err)
		params.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{}
		structured = false
		var again Reply
		again, err = c.send(ctx, params)
		again.Attempts += r.Attempts
		r = again
	}
	if err != nil {
		return Reply{}, err
	}
	r.Structured, r.Key = structured, key
	if err := c.cachePut(ctx, key, r); err != nil {
		return r, err
	}
	return r, nil
}

// send runs the tries of one request.
func (c *Client) send(ctx context.Context, params openai.ChatCompletionNewParams) (Reply, error) {
	var last error
	for attempt := 0; attempt < c.opts.Attempts; attempt++ {
		if attempt > 0 {
			wait := backoff(c.opts.InitialBackoff, c.opts.MaxBackoff, attempt, retryAfter(last))
			c.log("retry", "attempt", attempt+1, "wait", wait, "error", last)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return Reply{Attempts: attempt}, ctx.Err()
			case <-t.C:
			}
			c.retries.Add(1)
		}
		c.requests.Add(1)
		actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		resp, err := c.api.Chat.Completions.New(actx, params)
		timedOut := actx.Err() == context.DeadlineExceeded
		cancel()
		if err == nil {
			if len(resp.Choices) == 0 {
				last = fmt.Errorf("reply has no choices")
				continue
			}
			ch := resp.Choices[0]
			return Reply{Text: ch.Message.Content, FinishReason: ch.FinishReason, Truncated: ch.FinishReason == "length", Attempts: attempt + 1}, nil
		}
		if ctx.Err() != nil {
			return Reply{Attempts: attempt + 1}, ctx.Err()
		}
		if timedOut {
			err = fmt.Errorf("no reply within %v: %w", c.opts.Timeout, err)
		}
		last = err
		if !retryable(err) {
			return Reply{Attempts: attempt + 1}, &requestError{msg: describe(err), err: err}
		}
	}
	return Reply{Attempts: c.opts.Attempts}, &requestError{msg: fmt.Sprintf("after %d attempts: %s", c.opts.Attempts, describe(last)), err: last}
}

// requestError is a failed request: it is ErrRequest and wraps the last try's error.
type requestError struct {
	msg string
	err error
}

func (e *requestError) Error() string {
	if strings.HasPrefix(e.msg, "after ") {
		return ErrRequest.Error() + " " + e.msg
	}
	return ErrRequest.Error() + ": " + e.msg
}
func (e *requestError) Unwrap() []error { return []error{ErrRequest, e.err} }

// describe is an error with the server's message when it sent one (the SDK's own text
// holds only the status).
func describe(err error) string {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return err.Error()
	}
	msg := apiErr.Message
	if msg == "" {
		msg = apiErr.RawJSON()
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	if msg == "" {
		return err.Error()
	}
	return err.Error() + ": " + msg
}

func (c *Client) log(msg string, args ...any) {
	if c.opts.Logger != nil {
		c.opts.Logger.Info("vlm: "+msg, args...)
	}
}

// statusOf returns the HTTP status of an API error, or 0.
func statusOf(err error) int {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// retryable reports whether a failed try is worth another: rate limits, server errors,
// timeouts and transport failures (a dropped connection, a cut body). Other 4xx are not.
func retryable(err error) bool {
	switch s := statusOf(err); {
	case s == 0:
		return true
	case s == http.StatusRequestTimeout, s == http.StatusConflict, s == http.StatusTooManyRequests, s >= 500:
		return true
	}
	return false
}

// isSchemaRefusal reports a 400 or 422 to a request that asked for structured output, the
// answer of servers (and older versions) that do not take response_format json_schema.
func isSchemaRefusal(err error) bool {
	s := statusOf(err)
	if s != http.StatusBadRequest && s != http.StatusUnprocessableEntity {
		return false
	}
	msg := strings.ToLower(describe(err))
	for _, w := range []string{"response_format", "json_schema", "schema", "grammar", "structured"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}
