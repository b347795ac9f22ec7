// Package imagegem gives typed access to the ImageGem release (paper §3.1, Table 1): the
// ternary relation of generated images, LoRA model versions and Civitai users.
//
// # Overview
//
// A release is two folders as they are downloaded from the Hugging Face Hub:
// ImageGem-images/ (29 columns, one row per image × LoRA version) and ImageGem-models/
// (45 columns, one row per model version × file), each holding any number of parquet files
// anywhere below it. [Open] reads them through embedded DuckDB as two views, images and
// models, checks their columns and types, and answers typed queries: an image's LoRA
// versions, a version's images, a user's images and models in time order, uploaders, the
// base-model breakdown, and [Release.Stats], every cell of paper Table 1, raw and after a
// safety filter. [Release.Query] runs a user's own SQL over the same views.
//
// The package also builds the recommendation interactions of §5.2 (user–model and
// user–image, leave-one-last split, RecBole and SASRec exports) and ingests saved Civitai
// API pages into the release schema, hashing usernames (raw usernames are never stored).
//
// # Invariants
//
//   - Column names and types are checked when a release is opened; a missing column or a
//     wrong type is an error naming the file and the column.
//   - userHash is the only link between image makers and model uploaders.
//   - imageId is not unique in the images table (long format); counts of images use
//     DISTINCT imageId, while "average images per model" counts links and so double-counts
//     images made with several LoRAs, as the paper does.
package imagegem
