// Package embed runs CLIP text and image encoders and the preference scorers (CLIPScore,
// PickScore, HPSv2) on ONNX Runtime, with the tokenizers and image preprocessing that make
// its embeddings equal to the reference Python pipelines' (paper §3.3, §4.1, §4.2, §5.3).
package embed
