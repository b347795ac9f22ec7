package vlm

import "fmt"

// Server names an OpenAI-compatible server whose known quirks the client follows.
type Server string

// The servers with a profile.
const (
	// ServerOpenAI is any server that follows the OpenAI chat completions API to the letter.
	ServerOpenAI Server = "openai"
	// ServerVLLM is vLLM's `vllm serve` (the paper's Pixtral-12B runs there).
	ServerVLLM Server = "vllm"
	// ServerLlamaCpp is llama.cpp's `llama-server` with a multimodal projector.
	ServerLlamaCpp Server = "llamacpp"
	// ServerOllama is Ollama's OpenAI-compatible endpoint.
	ServerOllama Server = "ollama"
)

// ServerProfile is what the client knows about a server. Options.Server picks one; the Options
// fields MaxImages and MaxImageBytes override its limits.
type ServerProfile struct {
	Server Server
	// MaxImages is the number of images the server takes in one prompt by default; 0 means
	// no known limit. vLLM's default is 1 ("The default number of image inputs per prompt is
	// set to 1", docs.mistral.ai/self-deployment/vllm) until it is started with
	// --limit-mm-per-prompt; the client refuses a request over the limit before sending it.
	MaxImages int
	// StructuredOutput reports whether the server honours response_format json_schema. When
	// it does not, or when a server answers 400 to it, the client asks for plain text and
	// parses the JSON out of the prose.
	StructuredOutput bool
	// DefaultAPIKey is sent when no key is configured: Ollama's clients must send one although
	// the server ignores it (docs.ollama.com/api/openai-compatibility).
	DefaultAPIKey string
	// DefaultBaseURL is the server's usual address.
	DefaultBaseURL string
	// Notes says what differs, for logs and documentation.
	Notes string
}

// profiles are the known servers. The schema location quirk of llama.cpp (it reads
// response_format.json_schema.schema; a flat "schema" under json_schema is silently
// unconstrained, tools/server/README.md and server-common.cpp) needs no special case: the
// client always sends the OpenAI form, json_schema.{name, schema, strict}.
var profiles = map[Server]ServerProfile{
	ServerOpenAI: {Server: ServerOpenAI, StructuredOutput: true, DefaultBaseURL: "https://api.openai.com/v1",
		Notes: "the reference API"},
	ServerVLLM: {Server: ServerVLLM, MaxImages: 1, StructuredOutput: true, DefaultBaseURL: "http://localhost:8000/v1",
		Notes: "one image per prompt unless started with --limit-mm-per-prompt; structured output via response_format (guided_json removed in v0.12.0)"},
	ServerLlamaCpp: {Server: ServerLlamaCpp, StructuredOutput: true, DefaultBaseURL: "http://localhost:8080/v1",
		Notes: "schema read from response_format.json_schema.schema (the OpenAI form the client sends)"},
	ServerOllama: {Server: ServerOllama, StructuredOutput: true, DefaultAPIKey: "ollama", DefaultBaseURL: "http://localhost:11434/v1",
		Notes: "an API key is required by clients and ignored by the server"},
}

// ProfileOf returns the profile of a server; "" is ServerOpenAI.
func ProfileOf(s Server) (ServerProfile, error) {
	if s == "" {
		s = ServerOpenAI
	}
	p, ok := profiles[s]
	if !ok {
		return ServerProfile{}, fmt.Errorf("%w: Options.Server: unknown server %q (want openai, vllm, llamacpp or ollama)", ErrInvalidOptions, s)
	}
	return p, nil
}
