// Package recsys holds the retrieval recommenders of paper §4.2 and §5.2 (Tables 3, 5, 6):
// interactions as sparse matrices and sequences, the leave-one-last split, full-ranking and
// sampled metrics, ItemKNN, UserKNN, Item2Vec, Two-Tower and SASRec, and exact and
// approximate top-k retrieval. It takes plain Go values and never imports imagegem.
//
// # Overview
//
// Data enters as [Interactions]: one time-ordered sequence of dense item indices per user,
// with [IDMap]s back to the external identifiers. [LoadInteractionsFile] parses the two layouts the
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
// For serving, [TopKInnerProduct] is exact top-k by inner product over many queries at once,
// and [NewHNSW] builds an approximate index (a hierarchical navigable small-world graph,
// Malkov & Yashunin 2018) for corpora too large to scan, by inner product or Euclidean
// distance ([Metric]). [SaveModelFile] and [LoadModelFile] (or [WriteModel] and [ReadModel]
// on streams) persist fitted models; [SaveHNSWFile] and [LoadHNSWFile] (or [HNSW.WriteTo]
// and [ReadHNSW]) persist an index, so that a large one is built once.
//
// # Conventions
//
// Options are passed as pointers: nil and the zero value mean the reference defaults named
// beside each type, and an out-of-range value is an error wrapping [ErrInvalidOptions] from
// the constructor ([NewItemKNN], [NewUserKNN], [NewItem2Vec], [NewTwoTower], [NewSASRec],
// [NewHNSW]) or from [Evaluate], never replaced silently. A model keeps the resolved copy
// of its options; changing the caller's struct afterwards changes nothing. Long operations
// take a context first and report [Progress] through the options' Progress field; returning
// from it never stops the work: cancel the context instead.
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
//     concurrent use after Fit. Fit, Evaluate, NewHNSW and TopKInnerProduct stop promptly
//     when their context is cancelled and return an error wrapping the context's error; a
//     cancelled Fit leaves the model unfitted.
//   - Bad input is an error, never a panic: malformed lines name the file and line, unknown
//     items at Score time name their position in the history, an empty history is
//     [ErrNoHistory], and Score before Fit is [ErrNotFitted].
//   - An [HNSW] index built with one worker is a deterministic function of its vectors and
//     options; node levels never depend on the worker count. Its Search scores are exact
//     (float32) whatever precision the graph was walked in. Vectors and queries must be
//     finite with squared norm at most MaxFloat32/8, so that no float32 distance overflows;
//     building, loading and searching refuse others with an error.
//   - Saved models and indexes are written atomically (a temporary file in the destination
//     folder, synced and renamed into place, mode 0644); a save never replaces a file named
//     as one of its inputs ([ErrOverwritesInput]) and on error or cancellation leaves the
//     destination as it was. Loading checks the options and every shape before use.
//   - A loaded index returns the same hits, scores included, as the one saved.
//   - Loading an index checks every header field against the others and against the data,
//     every neighbour list (count within M or 2M, neighbours in range, not the node itself,
//     reaching the list's layer), every vector (finite, norm bound) and the checksum; an error
//     names the file, the field and the byte offset. Memory grows only as data arrives, so a
//     corrupt count cannot cause a large allocation.
package recsys
