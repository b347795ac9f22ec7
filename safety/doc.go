// Package safety scores prompts with the Detoxify models (original, unbiased, multilingual)
// on ONNX Runtime and applies the release's safety policy (paper §3.2: prompts whose unsafe
// probability is above 0.2 are removed), with resumable scoring of a whole dataset.
package safety
