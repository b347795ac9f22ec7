// Package w2w implements weights2weights personalization over user-made LoRAs (paper §4.3,
// §5.3, Appendix C): LoRA safetensors files in kohya and PEFT naming, rank-1 reduction by
// SVD, flattening into one vector per LoRA, a PCA space, preference directions from labels,
// edits θ + α·v, and writing edited LoRAs that ComfyUI, A1111 and diffusers load.
package w2w
