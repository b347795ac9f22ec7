// Package recsys holds the retrieval recommenders of paper §4.2 and §5.2 (Tables 3, 5, 6):
// interactions as sparse matrices and sequences, the leave-one-last split, full-ranking and
// sampled metrics, ItemKNN, UserKNN, Item2Vec, Two-Tower and SASRec, and exact and
// approximate top-k retrieval. It takes plain Go values and never imports imagegem.
//
// # Overview
//
// Data enters as [Interactions]: one time-ordered sequence of dense item indices per user,
// with [IDMap]s back to the external identifiers. [ReadFile] parses the two layouts the
// paper's baselines use: SASRec text files ("user item" lines in time order) and RecBole
// atomic .inter files. [NewInteractions] takes sequences built elsewhere (for example by
// the imagegem package's exports). [NewCSR] gives the user×item count matrix.
//
// [LeaveOneLast] is the split of §5.2 and of both reference implementations: per user, the
// last item is the test item, the one before the validation item, the rest training; users
// with fewer than [MinSplitLength] items train only. At the test stage the history handed to
// a model includes the validation item (RecBole does the same for sequential models).
//
// Every recommender implements [Model]: Fit on a [Split], then Score a user (or a cold user,
// index -1) from a history into one score per item.
//
//   - [ItemKNN], [UserKNN]: RecBole's neighbourhood models (shrunk cosine, k = 100, zero
//     self-similarity, summed scores).
//   - [Item2Vec]: skip-gram with negative sampling over each user's item set; candidates are
//     scored by the skip-gram logits against the history ([Item2VecScoring]).
//   - [TwoTower]: in-batch softmax, with the sampling-bias (log Q) correction and the
//     streaming frequency estimate of Yi et al. 2019 as an option, towers optionally
//     initialised from given item vectors (the paper uses ViT image embeddings for images).
//   - [SASRec]: Kang & McAuley 2018 with the paper's defaults (d = 50, two blocks, one head,
//     learned positions, shared item embeddings, binary cross-entropy with one sampled
//     negative, Adam); [LossCE] selects RecBole's softmax variant.
//
// [Evaluate] reports Recall@k (= HR@k with one held-out item), NDCG@k and MRR@k under
// [ProtocolFull] (rank against all items; non-sequential models have the history masked, as
// RecBole does) or [ProtocolSampled100] (rank against 100 items the user never touched,
// drawn uniformly, as in the SASRec paper §IV-B).
//
// For serving, [TopK] finds exact top-k by inner product with blocked float32 matrix
// products, and [NewHNSW] builds an approximate index (a hierarchical navigable small-world
// graph, Malkov & Yashunin 2018) for corpora too large to scan, by inner product or
// Euclidean distance ([Metric]). [SaveFile] and [LoadFile] persist fitted models;
// [SaveHNSWFile] and [LoadHNSWFile] (or [HNSW.WriteTo] and [ReadHNSW] on streams) persist an
// index, so that a large one is built once: at 100,000 × 128 the build takes 16 s on two
// cores, saving 0.1 s and loading 0.3 s (see BENCHMARKS.md).
//
// # HNSW file format
//
// A saved index is one little-endian binary file, version 1: the magic "IGEMHNSW", the
// version (uint32), flags (uint32, bit 0 FullPrecision), metric, dim, n, M, EfSearch, the
// entry point and its top layer (uint32 each), the number of int32 values in the upper-layer
// lists (uint64); then one level byte per node; the layer-0 lists, node by node, each a
// count and 2M slots (int32); the upper-layer lists of the nodes above layer 0, in node
// order, layers 1..level, each a count and M slots; the float32 vectors, row-major; and a
// CRC-32C (Castagnoli) of every byte before it. Slots past a list's count are zero, so one
// index has exactly one encoding. The half-precision copy the graph is walked in is not
// stored: it is a deterministic function of the float32 vectors and is rebuilt on load, so
// a loaded index returns the same hits, scores included, as the one saved. EfConstruction,
// Seed and Workers shaped the graph but are not needed to search it, and are not kept.
//
// The package recsystest holds the conformance suite every model here passes; a new model
// calls recsystest.Run from its tests.
//
// # Invariants
//
//   - Item and user indices are dense: items 0..NumItems-1, users 0..NumUsers-1, in order of
//     first appearance in the input. Identifiers are kept as text.
//   - Ranks count every competing item scoring at least as high as the held-out item, so ties
//     count against the model (a model that scores everything equal ranks last).
//   - Every model is deterministic for a given seed and worker count, and Score is safe for
//     concurrent use after Fit. Training stops promptly when its context is cancelled.
//   - Bad input is an error, never a panic: malformed lines name the file and line, unknown
//     items at Score time name their position in the history, an empty history is
//     [ErrNoHistory], and Score before Fit is [ErrNotFitted].
//   - An [HNSW] index built with one worker is a deterministic function of its vectors and
//     options; node levels never depend on the worker count. Its Search scores are exact
//     (float32) whatever precision the graph was walked in. Vectors and queries must be
//     finite with squared norm at most MaxFloat32/8, so that no float32 distance overflows;
//     building, loading and searching refuse others with an error.
//   - Saved models and indexes are written to a temporary file in the destination folder and
//     renamed into place; loading checks every shape before use.
//   - Loading an index checks every header field against the others and against the data,
//     every neighbour list (count within M or 2M, neighbours in range, not the node itself,
//     reaching the list's layer), every vector (finite, norm bound) and the checksum; an error
//     names the file, the field and the byte offset. Memory grows only as data arrives, so a
//     corrupt count cannot cause a large allocation.
//
// # Performance
//
// SASRec packs each batch's sequences at their true lengths (no padding rows), runs the
// dense layers of all sequences as one float32 matrix product per layer, and splits every
// batch across the available cores with per-core gradient buffers that are summed in a fixed
// order. Exact top-k scores 64 queries against 2,048 items per matrix product.
//
// [NewHNSW] inserts on all cores at once, hnswlib-style: each node's neighbour lists sit in
// one flat int32 block guarded by a per-node lock, a new node's own lists are written before
// any neighbour links to it, and only one lock is held at a time. The graph is built and
// walked over a half-precision copy of the vectors (scaled by a power of two into the
// binary16 range), which halves the memory traffic that dominates at a million vectors;
// distances are computed in batches (one call per visited node) by C kernels for AVX-512F
// or AVX2+FMA+F16C chosen at run time, with a pure-Go fallback where cgo is off. Each worker
// reuses its buffers and a generation-stamped visited set, so the inner loops do not
// allocate. See BENCHMARKS.md for 1,000,000 × 512 figures.
package recsys
