// Package recsys holds the retrieval recommenders of paper §4.2 and §5.2 (Tables 3, 5, 6):
// interactions as sparse matrices and sequences, the leave-one-last split, full-ranking and
// sampled metrics, ItemKNN, UserKNN, Item2Vec, Two-Tower and SASRec, and exact and
// approximate top-k retrieval. It takes plain Go values and never imports imagegem.
package recsys
