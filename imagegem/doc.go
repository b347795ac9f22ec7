// Package imagegem gives typed access to the ImageGem release (paper §3.1, Table 1): the
// ternary relation of generated images, LoRA model versions and Civitai users.
//
// # Overview
//
// A release is a folder holding the two datasets as they are downloaded from the Hugging
// Face Hub: ImageGem-images/ (29 columns, one row per image × LoRA version) and
// ImageGem-models/ (45 columns, one row per model version × file), each holding any number
// of parquet files anywhere below it. [Open] checks the tables and answers typed queries;
// [Release.Query] runs a user's own SQL over the same two views, "images" and "models".
//
// # Paper mapping
//
//   - §3.1, Table 1: [Release.Stats] computes every cell of the table, raw, and
//     [Release.FilteredStats] after a safety filter (the paper's Detoxify > 0.2 prompts).
//   - §3.1, the collection: [IngestCivitai] turns saved Civitai API pages into a release in
//     the same schema, and [Writer] writes one (the synthetic generator, package synth,
//     uses it).
//   - §5.2, the recommendation data: [Release.Interactions] builds the user–model
//     (Models-200K) and user–image (Images-1M) interactions with the paper's filter of
//     users with fewer than three, [SplitLeaveOneLast] is the leave-one-last split (it
//     holds out the same items as recsys.LeaveOneLast on the same sequences), and
//     [WriteRecBole], [WriteRecBoleSplit] and [WriteSASRec] export them for the reference
//     recommenders.
//
// # Invariants
//
//   - Column names and types are checked when a release is opened; a missing column or a
//     wrong type is an error wrapping [ErrSchema] that names the file and the column.
//   - userHash is the only link between image makers and model uploaders; ingestion hashes
//     usernames and never stores them.
//   - imageId is not unique in the images table (long format); counts of images use
//     DISTINCT imageId, while "average images per model" counts links and so double-counts
//     images made with several LoRAs, as the paper does.
//   - Every file the package writes appears whole or not at all: a failed or cancelled
//     write leaves the destination as it was, and a release is never written over another
//     ([ErrExists]) or over one of its inputs ([ErrOverwritesInput]).
//   - Options are passed as pointers; nil and the zero value mean the defaults, and an
//     out-of-range value is an error wrapping [ErrInvalidOptions], never replaced.
//   - Long operations take a context first and stop soon after it is cancelled; errors
//     start with "imagegem: ".
package imagegem
