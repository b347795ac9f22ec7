// Package synth writes a deterministic synthetic ImageGem release at any scale, in the exact
// schema of the public tables (paper §3.1, Table 1), with planted structure that later
// stages can recover.
//
// # Planted truth
//
// See [Truth] for what is planted: users with tastes over styles and topics, time-ordered
// histories with drift (what the §5.2 sequential recommenders learn), reactions correlated
// with a hidden quality, uploaders with several LoRAs, long-tailed activity, base models in
// the shares of §3.1, and companion files (a unit vector per prompt and per image, clustered
// by style; small kohya LoRA safetensors per version carrying a style direction, the
// structure the §4.3 weights2weights space recovers).
//
// # Invariants
//
//   - The same Options (Seed included) give the same release, byte for byte.
//   - Every image has one to three LoRA versions of the models table; every uploader is
//     an image maker with at least one version; every user has at least one image.
//   - The release appears whole or not at all: on error or cancellation nothing is left.
//   - Out-of-range or contradictory options are errors wrapping [ErrInvalidOptions]; errors
//     start with "synth: ".
package synth
