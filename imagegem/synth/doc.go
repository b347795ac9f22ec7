// Package synth writes a deterministic synthetic ImageGem release at any scale, in the exact
// schema of the public tables, with planted structure that later stages can recover.
//
// # Planted truth
//
// See [Truth] for what is planted: users with tastes over styles and topics, time-ordered
// histories with drift, reactions correlated with a hidden quality, uploaders with several
// LoRAs, long-tailed activity, and companion files (a unit vector per prompt and per image,
// clustered by style; small kohya LoRA safetensors per version carrying a style direction).
package synth
