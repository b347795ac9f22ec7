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
//     [NewSpaceBuilder] builds the same space from a stream of LoRAs that never sits in
//     memory at once (see "Streaming spaces" below).
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
// # Streaming spaces
//
// [BuildSpace] holds the n×d population in memory (23,000 SDXL LoRAs of d = 3,563,008
// coordinates are 328 GB in float32). [SpaceBuilder] reads the population once, folding each
// LoRA into fixed-size sketches as it arrives, and is the one-pass randomized sketch of
// Tropp, Yurtsever, Udell and Cevher, "Practical sketching algorithms for low-rank matrix
// approximation", SIAM J. Matrix Anal. Appl. 38(4), 2017 (Algorithms 1, 2 and 4 and §5.3's
// fixed-rank truncation), applied to the row-streamed population X (N×d):
//
//   - the range sketch Y = X·Ωᵀ (N×k, one row of k numbers per LoRA: the "N×k coefficient
//     sketch", the only state that grows with N), with Ω a k×d Gaussian test matrix;
//   - the co-range sketch W = Ψ·X (l×d), folded in as W += ψ_i·x_iᵀ, with ψ_i ∈ ℝˡ the
//     Gaussian column of Ψ that belongs to LoRA i;
//   - the running sum Σ x_i (float64) and Σ ψ_i.
//
// Centring goes through the sketches' linearity: with μ = Σx_i/N, the centred sketches are
// Y − 1·(Ω·μ)ᵀ and W − (Σψ_i)·μᵀ, so no LoRA is needed twice. At [SpaceBuilder.Finish],
// Q = orth(Yc) (N×k), X̂ = (Ψ·Q)⁺·Wc (k×d) and the space is the top m right singular vectors
// and singular values of X̂ (those of the approximation Q·X̂ of Xc, Q being orthonormal).
// The default sizes k = 2m+1 and l = 2k+1 are the choice Tropp et al. analyse for a
// rank-m truncation; their Theorem 4.3 bounds the expected squared error by
// (1 + k/(l−k−1))·(1 + ϱ/(k−ϱ−1)) times that of the best rank-ϱ approximation, ϱ < k−1.
//
// Test matrices are never stored: Ω is regenerated row by row from the seed, and ψ_i from the
// seed and a 64-bit hash of LoRA i's flattened vector, so a LoRA gets the same ψ in whatever
// builder, order or worker it is read; builders over disjoint parts of a population
// therefore merge ([SpaceBuilder.Merge]) into the builder of the union by adding W, Σx and Σψ
// and concatenating the rows of Y and their keys, the same up to summation order. A
// checkpoint ([SpaceBuilder.Save], [LoadSpaceBuilder]) holds W, the sums, the rows of Y and
// the keys, and is refused by a builder of another layout, seed or sketch size.
//
// With Passes = 2 the stream is read twice for accuracy: the first pass forms Wc alone, its
// orthonormalised rows P become the basis (the randomized range finder of Halko, Martinsson
// and Tropp 2011, Algorithm 4.1, applied to Xcᵀ), and the second pass stores each LoRA's
// exact coordinates P·(x_i − μ); the space is the SVD of that N×l matrix mapped back
// through P. Every LoRA of the first pass must come again in the second.
//
// Sign references come first, from a sample: the builder takes a [Layout] made by
// [NewLayout] from a seeded random sample of the population reduced beforehand, so every
// LoRA of the stream is oriented against references fixed before it is read. Modules absent
// from the whole sample are not in the layout and are ignored in the stream.
//
// The products (Y rows, W updates, the final Gram matrices and combinations) run on the
// options' [Backend]. A space built this way is centred, never standardised.
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
