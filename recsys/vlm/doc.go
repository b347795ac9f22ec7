// Package vlm is the second, ranking stage of the two-stage recommender of paper §4.2,
// §5.2.2 and Appendix B: a vision-language model (Pixtral-12B in the paper) behind an
// OpenAI-compatible chat completions API writes a user's visual preference profile from
// their latest H = 5 items, then scores the top M = 10 candidates of a first-stage recsys
// model against it, each score with an explanation. The same captioning labels LoRAs for
// personalization (§5.3.2).
//
// # Overview
//
//   - Client (New, Options) talks to vLLM, llama.cpp's llama-server, Ollama or any
//     OpenAI-compatible server through github.com/openai/openai-go/v3: images as content
//     parts (data URLs of local files, or URLs), a timeout per attempt, retries with jittered
//     exponential backoff on 408/409/429/5xx, timeouts and dropped connections (honouring
//     Retry-After and retry-after-ms), a bound on requests in flight, and a disk cache keyed
//     by the SHA-256 of the whole request so that a rerun sends nothing. Structured output
//     goes through response_format json_schema (the OpenAI form, whose schema sits at
//     json_schema.schema where llama.cpp reads it); a server that answers 400 to it gets the
//     request again as plain text, and the client remembers. Server profiles (ServerVLLM,
//     ServerLlamaCpp, ServerOllama) carry the known quirks.
//   - Prompts holds the four Appendix B prompts as named text/template templates
//     (caption-images, rank-images with the 100-point rubric, caption-models, rank-models
//     with the 0–100 bands); any of them can be replaced.
//   - ParseScores and ParseProfile read replies as models write them: JSON in prose or code
//     fences, several objects or one array, trailing commas, single quotes, scores as strings
//     or "85/100", ids with prefixes, cut-off replies, or plain "Image 2: 85" lines.
//   - ScoreCandidates is the randomized scoring of Appendix B.1.5: T trials, each on a
//     random k-subset of the candidates (k bounded by the server's images per request), each
//     candidate's score the mean over the trials that saw it, with its spread and the
//     explanations.
//   - Row and FormatTable give Table 7's shape: average rank of the held-out item, its
//     standard deviation, Rec@5 and NDCG@5.
//
// # Invariants
//
//   - Nothing is sent for a request that breaks the server's limits: more images than
//     Options.MaxImages is ErrTooManyImages, and a local image over MaxImageBytes or
//     MaxImageSide is shrunk (or, with RefuseOversize, refused with ErrImageTooLarge).
//   - Every candidate ends with a score or with recorded failures (CandidateScore.Failures:
//     a failed request, a reply without its id, a score clamped into [0, 100], a candidate
//     no trial drew); a malformed reply never stops the scoring, and no input panics the
//     parser (fuzzed).
//   - Under one seed, ScoreCandidates sends the same requests and returns the same scores
//     whatever the timing of the concurrent trials.
//   - Cache files are written through internal/atomicfile; a cancelled context stops the
//     retries and the requests in flight.
package vlm
