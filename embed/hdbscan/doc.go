// Package hdbscan clusters points with HDBSCAN, with the semantics of the reference Python
// implementation (scikit-learn-contrib/hdbscan 0.8.43), as the paper does for prompt
// embeddings (§4.1, preference pairs from prompt clusters) and for a user's image
// embeddings (§5.3.2, the user's representative preference cluster).
//
// # Overview
//
// [Fit] takes the points row-major in one []float32 with their dimension (the module's
// matrix convention; the numerics run in float64 inside) and *[Options] whose nil or zero
// value is the reference's defaults (min_cluster_size 5, min_samples = min_cluster_size,
// Excess of Mass, epsilon 0, alpha 1, Euclidean). The [Result] holds what the reference's HDBSCAN object exposes:
// labels (-1 is noise), membership probabilities, GLOSH outlier scores, cluster
// persistence, and, for users who want to inspect them, the core distances, the minimum
// spanning tree, the single-linkage tree (scipy layout) and the condensed tree.
// [Result.Predict] places new points in a fitted clustering the way the reference's
// approximate_predict does, for example a user's new image in their existing preference
// cluster. [ReadCSV] reads a points file for the examples/cluster program.
//
// The pipeline is the reference's, step by step:
//
//  1. core distance of a point: the distance to its min_samples-th nearest other point
//     (the reference does not count the point itself although its docstring says so;
//     Options.SelfInclusive gives scikit-learn's convention, where m means the reference's
//     m-1);
//  2. mutual reachability max(d(a,b)/alpha, core(a), core(b));
//  3. Prim's minimum spanning tree from point 0;
//  4. edges sorted by weight (stably: see Invariants), single-linkage tree by union-find;
//  5. condensed tree with min_cluster_size, cluster stability;
//  6. Excess of Mass or leaf selection, cluster_selection_epsilon, allow_single_cluster;
//  7. labels, probabilities, GLOSH scores, persistence.
//
// Three modes compute steps 1–3 ([Mode]):
//
//   - Exact: float64 distances summed in coordinate order without fused multiply-add, the
//     reference's Prim loop with its tie rules. O(n²·d) time, O(n) memory. Auto takes it
//     while n²·d is at most [ExactWork].
//   - Fast: the same Prim loop on float32 distances, computed in parallel blocks from the k
//     nearest neighbours of every point (k = max(32, 2·min_samples)) and, only where those
//     cannot prove the next edge, from the rest. O(n²·d) time, O(n·(d + k)) memory, never an
//     n×n matrix. The MST is the exact one up to float32 rounding.
//   - Approximate: from [ApproximateThreshold] points. The core distances and the spanning
//     tree come from an approximate k-nearest-neighbour graph whose pieces are then joined
//     by their shortest links found from samples. About O(n^1.5·d) time; labels close to,
//     not equal to, the exact ones.
//
// The float32 modes compute |q|² + |x|² - 2 q·x, whose rounding error is about 1e-7 of
// the squared norms: near-duplicate points get distances that are only roughly right
// (exact duplicates may come out slightly above 0). Use the exact mode where that
// matters.
//
// Cosine distance is 1 - cos, computed on rows scaled to unit length, as scikit-learn's
// cosine_distances; in the float32 modes it is |a-b|²/2 of the unit rows.
//
// # Invariants
//
//   - Exact mode reproduces the reference bit for bit on its prims_kdtree path, given the
//     same coordinates: core distances, the MST rows in the order found, the single-linkage
//     and condensed trees; labels identical; probabilities, outlier scores and persistence
//     to 1e-12. The golden data set's coordinates are float64, most of them not float32
//     values, so its test replays them through an unexported float64 entry point that
//     shares everything after the input with Fit.
//   - The fast mode's labels agree with the exact mode's (adjusted Rand index at least
//     0.99 on the 64-dimensional golden cases and on generated CLIP-like data, checked by
//     the tests).
//   - MST edges are sorted stably by weight. The reference uses numpy's unstable introsort,
//     whose order of tied weights differs between numpy versions and CPUs, so the
//     reference is not tie-stable itself; the golden files carry the stable-sort outputs.
//     Options.ReferenceTieOrder sorts with a port of numpy 1.24's introsort instead: the
//     exact mode then gives the reference's own outputs bit for bit (checked against the
//     permutation and the outputs stored in every golden file).
//   - The EOM pass holds the sum of the children's stabilities in float32, as the
//     reference's Cython code does (it shows in cluster_persistence with epsilon).
//   - cluster_selection_epsilon visits the candidate clusters in ascending id order (the
//     reference iterates a Python set).
//   - Exact duplicates give lambda = +Inf; then membership probabilities are 0 and GLOSH
//     scores NaN exactly where the reference gives them.
//   - The reference's 'generic' algorithm (BLAS distances) and 'boruvka_kdtree' give the
//     same partition and merge heights up to rounding, laid out differently; Boruvka with
//     the reference's approx_min_span_tree=True is not an exact MST, and ignores alpha.
//   - Prediction uses the fit's core distances; the reference's prediction data recomputes
//     them counting the point itself, so a borderline new point can be placed differently.
//     A Result keeps a float64 copy of the points for prediction.
//   - An option out of range is an error wrapping [ErrInvalidOptions] ("hdbscan: invalid
//     options: Field: reason"), never replaced by another value. Bad data is an error
//     wrapping [ErrInput], never a panic: no points, a length that is not a multiple of the
//     dimension, NaN or ±Inf (with the point and coordinate), fewer points than
//     min_cluster_size, all points identical, a zero vector under the cosine metric,
//     coordinates beyond ±1e15 in the float32 modes, where squared distances would
//     overflow.
//   - Every stage (core distances, spanning tree, trees and labels) stops soon after the
//     context is cancelled and Fit returns the context's error.
//   - The library prints nothing; Options.Progress receives the module's [Progress] with
//     the stage names "core", "mst" and "tree".
package hdbscan
