// Package safetensors reads and writes the safetensors format (huggingface/safetensors), in
// which every LoRA the library reads or writes is stored.
//
// # Overview
//
// A file is an 8-byte little-endian header length n, n bytes of JSON header, and the tensor
// data buffer. The header maps each tensor name to its dtype, shape and [begin, end) byte
// offsets into the data buffer, plus an optional "__metadata__" map of strings to strings.
// [Open] memory-maps a file read-only and validates it; [Parse] does the same for bytes held
// in memory; [Encode] and [WriteFile] produce files the reference implementation reads.
//
// # Invariants
//
//   - A File returned without error has unique tensor names, known dtypes, byte counts that
//     match shape × dtype size, and offsets sorted, contiguous from 0 and covering the data
//     buffer exactly (the reference implementation's rules); headers above [MaxHeaderBytes]
//     are refused before allocation.
//   - Every error for a bad file wraps one of the package's named errors and names the file,
//     the tensor and the byte offset where known. Nothing panics on any input.
//   - Encode pads the header with spaces so the data buffer starts at a multiple of 8 bytes,
//     as the reference writer does; F16 and BF16 are rounded to nearest even.
//   - WriteFile never leaves a half-written file and never replaces one of its inputs.
package safetensors
