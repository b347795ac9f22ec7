// Package dpo curates preference pairs for Diffusion-DPO (paper §4.1, Table 2, Table 4):
// topic subsets, prompt clustering with HDBSCAN, HPSv2 min–max pairing, Pick-a-Pic v2 export,
// the Diffusion-DPO loss, the hand-off to the reference trainer, and evaluation.
package dpo
