// Package vlm is the second, ranking stage of the two-stage pipeline of paper §4.2 and
// Appendix B: a vision-language model captions a user's history and ranks retrieved
// candidates through an OpenAI-compatible chat completions API.
package vlm
