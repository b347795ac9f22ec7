// Package hdbscan clusters points with HDBSCAN, with the semantics of the reference Python
// implementation (scikit-learn-contrib/hdbscan), as the paper does for prompt embeddings
// (§4.1) and for a user's image embeddings (§5.3.2).
package hdbscan
