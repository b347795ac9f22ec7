// Package w2w implements weights2weights personalization over user-made LoRAs (paper §4.3,
// §5.3, Appendix C): LoRA safetensors files in kohya and PEFT naming, rank-1 reduction by
// SVD, flattening into one vector per LoRA, a PCA space, preference directions from labels,
// edits θ + α·v, and writing edited LoRAs that ComfyUI, A1111 and diffusers load.
//
// # Overview
//
// The steps of §4.3 map to functions as follows.
//
//  1. Read. Package [github.com/imagegem/imagegem-go/w2w/safetensors] reads and writes the
//     file format. [LoadLoRA] parses the LoRA modules: kohya names (lora_unet_…,
//     lora_te_…, lora_te1_…, lora_te2_…, .lora_down/.lora_up/.alpha, 4-D conv factors),
//     PEFT/diffusers names (lora_A/lora_B, unet.…, transformer.…, text_encoder.…, the older
//     attention-processor names), cloneofsimo files and LyCORIS LoKr modules. Each module
//     gets a canonical kohya-style name, a [Component] and a [Kind] (attention q/k/v/out of
//     attn1/attn2, feed-forward, projection, conv), and the file a base [Family] from its
//     names and shapes, with its metadata (ss_base_model_version, modelspec.architecture)
//     used when the structure is not decisive.
//  2. Reduce. [Reduce] replaces each module's ΔW = (alpha/r)·up·down by its top singular
//     triplet σ·u·vᵀ without forming ΔW: the r×r Gram matrices of the thin factors reduce the
//     problem to an r×r SVD, so the cost grows with (out+in)·r², not out·in. Conv modules are
//     flattened to out × (in·kh·kw) as loaders do. σ and ‖ΔW‖²_F are kept per module
//     ([Rank1Module.Discarded] is what rank 1 loses). [ReduceFile] reads and reduces a file
//     at once, handing modules to the backend while later ones are still being decoded, with
//     the same result as [LoadLoRA] followed by [Reduce].
//  3. Flatten. [NewLayout] builds the manifest shared by a population of one family: ordered
//     modules, shapes, a layer selection of §5.3.1 ([SelectAll], [SelectFF], [SelectAttnV],
//     [SelectFFAttnV]) and per-module sign references; [Layout.Flatten] writes √σ·u then √σ·v
//     per module, zeros and a false mask entry for modules a LoRA lacks.
//     [NewFixedRankLayout] is the fixed-rank alternative (raw factors of equal-rank LoRAs).
//  4. Space. [BuildSpace] centres (optionally standardises) the vectors and keeps the top m
//     principal components, through the n×n Gram matrix when n ≪ d and by randomized SVD
//     otherwise; [Space.Project], [Space.BackProject], [Space.Save] and [LoadSpace].
//  5. Direction. [Space.Direction] fits L2-regularised logistic regression, a linear SVM or
//     the least-squares pseudo-inverse direction on the coefficients of labelled LoRAs
//     (+1 preferred, −1 not) and maps the normal back to weight space; [Debias] removes
//     another direction's component; [Space.Directions] serves several users at once.
//     [AnimeRealisticLabel] is the §5.3.1 labelling rule over CLIP scores.
//  6. Edit and write. [Space.Edit] moves a LoRA along a direction after projecting it;
//     [EditVector] does θ + α·v with a layout only; [WriteRank1LoRA] writes the result as a
//     rank-1 kohya LoRA (up = √σ·u, down = √σ·vᵀ, alpha = 1, kohya metadata) with the input's
//     module names. [WriteDirection] and [ReadDirection] store a direction in the module
//     layout of a rank-1 LoRA.
//
// The heavy linear algebra (batched rank-1 reduction, Gram matrices, projections) runs
// through the [Backend] interface, chosen in each operation's options (nil means
// [DefaultBackend]). [CPU] is the default and the reference; an accelerated backend
// registers itself with [SetDefaultBackend] and must match the CPU results to 1e-4 relative.
// Built with -tags openblas (cgo and Debian's libopenblas-dev), the package adds the
// OpenBLAS backend, which becomes the default; with -tags cuda, the CUDA backend does when a
// GPU is present.
//
// # Invariants
//
//   - Bad input gives an error wrapping one of the named errors ([ErrTruncated],
//     [ErrBadOffsets], [ErrShapeMismatch], [ErrNonFinite], [ErrRankMismatch],
//     [ErrMalformedKey], [ErrNotLoRA], …) whose message names the file, the tensor and the
//     byte offset; nothing panics on any input (the parser is fuzzed).
//   - F8 tensors parse as raw bytes but are refused as weights ([ErrUnsupportedDType]).
//   - Signs: (u, v) and (−u, −v) are the same LoRA. [Reduce] orients each module
//     provisionally (largest |u| entry positive); a [Layout] re-orients every module of every
//     LoRA against one reference per module, the leading eigenvector of Σ u·uᵀ over the
//     population, stored with the layout (and so with spaces and direction files) and applied
//     to new LoRAs. A per-file rule alone scatters similar LoRAs across the sign ambiguity.
//   - Vectors are comparable only within one layout: one family, one module order and shape
//     per name. Mixing families is an error ([ErrLayout]).
//   - Written LoRAs and spaces go to a temporary file in the destination folder, synced, then
//     renamed; an input file is never overwritten ([ErrOverwritesInput]).
//   - Long operations take a context and stop when it is cancelled; progress reports are
//     [Progress] values and never stop the work.
//   - Options are pointers; nil and zero fields mean the defaults, and a value out of range
//     is an error wrapping [ErrInvalidOptions], never replaced.
//
// # Units of α
//
// A direction's Vector is a unit vector in the flattened rank-1 space whose coordinates are
// the factors √σ·u and √σ·v of every module, in raw units (standardisation undone). α is
// therefore a Euclidean length in those coordinates; a LoRA's own length is √(Σ_k 2σ_k). The
// edit strengths of the paper (6000–7500) are in weights2weights' own unnormalised units and
// do not carry over; scale α by the spread of the population along the direction (the
// direction subcommand of examples/w2w prints it).
package w2w
