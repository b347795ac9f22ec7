// Package embed runs CLIP text and image encoders and the preference scorers (CLIPScore,
// PickScore, HPSv2) on ONNX Runtime, with the tokenizers and image preprocessing that make
// its embeddings equal to the reference Python pipelines' (paper §3.3, §4.1, §4.2, §5.3).
//
// # Overview
//
// CLIP embeddings drive the dataset map (§3.3, Fig. 2), prompt clustering for preference
// pairs (§4.1), image item initialisation for retrieval (§4.2) and the labelling of LoRAs
// and users for weights2weights (§5.3); PickScore, HPSv2 and CLIPScore measure the
// Diffusion-DPO results (Table 4). The pieces, from a file on disk to an embedding:
//
//   - ONNX Runtime: [InitRuntime] loads libonnxruntime once per process from the first of
//     [LibraryCandidates] that exists; the error of [FindLibrary] lists every path tried.
//     [OpenSession] checks a model's input and output names at load time; [Session.Run]
//     takes and returns plain Go [Tensor] values, so no runtime value can leak.
//   - Tokenizer: [CLIPTokenizer] is CLIP's byte-pair encoding (byte-to-unicode, BPE with
//     </w>, 49,408 ids, start 49406, end 49407) behind the text pipeline of a model family
//     ([TextFamily], [CLIPTokenizer.Family]): [TextOpenAI] is OpenAI's
//     clip/simple_tokenizer.py (ftfy.fix_text through package embed/ftfy, HTML unescape,
//     whitespace collapse, lower-case, the split regex), [TextOpenCLIP] open_clip's
//     SimpleTokenizer (the same, special tokens spelled <start_of_text>), and [TextHF]
//     Hugging Face's CLIPTokenizerFast, which runs exactly the added tokens, normalizers
//     and pre-tokenizers of its tokenizer.json ([LoadCLIPTokenizerJSON]) and no ftfy. A
//     model folder's files choose the family ([LoadCLIPTokenizerFromFolder]);
//     Options.TextFamily and [CLIPTokenizer.WithFamily] override it.
//     [CLIPTokenizer.Tokenize] is clip.tokenize(text, truncate=True): 77 ids, the end
//     token kept on truncation, zeros after it. Like every [Tokenizer],
//     [CLIPTokenizer.Encode] returns the ids with the special tokens (Tokenize's without
//     the padding).
//   - Tokenizers for the safety classifiers (Detoxify): [WordPiece] (BERT, from vocab.txt),
//     [ByteBPE] (RoBERTa and GPT-2, from vocab.json and merges.txt) and [LoadTokenizerJSON]
//     for Hugging Face tokenizer.json files with WordPiece, byte-level BPE or Unigram
//     (XLM-R) models. Each [Tokenizer] returns ids with the special tokens, truncated to
//     the model's 512 positions.
//   - Images: [Preprocessor] decodes JPEG (including Adobe CMYK), PNG, GIF (first frame)
//     and WebP into the mode PIL would open them in (16-bit greyscale PNG as 32-bit mode I,
//     clipped to 0..255 when converted to RGB, as PIL does) and applies [TransformCLIP] (OpenAI and
//     open_clip), [TransformCLIPHF] (Hugging Face CLIPImageProcessor) or [TransformHPSv2]
//     (longest side to 224, zero padding), with PIL's antialiased bicubic resampling.
//   - Models: [Open] reads a folder in the Hugging Face / Transformers.js layout
//     (onnx/text_model.onnx, onnx/vision_model.onnx, config.json,
//     preprocessor_config.json, and bpe_simple_vocab_16e6.txt.gz, merges.txt or
//     tokenizer.json). [Model.EncodeText] and [Model.EncodeImages] run batches and return
//     unit-length embeddings as one flat row-major []float32 of [Model.Dim] floats per
//     row (the module's matrix convention); [Cosine] and [Normalize] work on one row,
//     [MostSimilar] ranks the rows of such a matrix against a query.
//   - Scorers: [CLIPScore] (2.5·max(cos, 0), optional "A photo depicts " prefix),
//     [PickScore] (logit_scale·cos) and [HPSv2] (cos under the HPSv2 transform).
//
// # Invariants
//
//   - Token ids equal each family's reference on every prompt of the shared corpus
//     (79,855 prompts) and on 4,033 prompts with curly quotes, full-width forms, decomposed
//     accents, ligatures, mojibake, entities, C1 controls and line breaks put in: OpenAI's
//     clip.tokenize and open_clip's tokenizer with the real ftfy 6.3.1, and tokenizers'
//     CLIPTokenizerFast for [TextHF]. ftfy changes about one real prompt in 50 (curly
//     quotes, full-width punctuation, decomposed accents, ligatures, mojibake such as
//     "cafÃ©"), so skipping it changes the ids of those prompts.
//   - Preprocessed pixels are within 0.5/255 mean and 3/255 max absolute difference of
//     PIL's per channel on the shared images (most are equal), Go's decoders standing in
//     for libjpeg-turbo and libwebp. An animated WebP gives its first frame as PIL shows
//     it (libwebp's WebPAnimDecoder: the frame at its offset on a transparent black
//     canvas, mode RGBA when the VP8X alpha flag is set). Known gap: in lossy WebP with
//     alpha a few nearly transparent pixels differ by up to 17/255 because PIL divides
//     by alpha after resampling (the mean stays under 0.06/255).
//   - By default EXIF orientation is ignored, as the reference pipelines do;
//     Preprocessor.ApplyOrientation follows PIL's ImageOps.exif_transpose, reading the
//     orientation from JPEG APP1, PNG eXIf and WebP EXIF chunks.
//   - Images over the pixel limit (DefaultMaxPixels, PIL's decompression-bomb limit) are
//     refused from their header before decoding.
//   - A corrupt or missing image gives an error at its index and a zero row; the rest of
//     the batch completes. [Open] and the encoders take a context first and stop between
//     steps or batches when it is cancelled; progress goes to Options.Progress as the
//     module's [Progress] with the stage name "embed" ([ProgressStage]).
//   - Every options type ([Options], [SessionOptions], [RuntimeOptions], [ScoreOptions],
//     [WordPieceOptions], [ByteBPEOptions]) is passed by pointer, nil and the zero value
//     meaning the defaults; a value out of range is an error wrapping [ErrInvalidOptions]
//     ("embed: invalid options: Field: reason"), never replaced by another value.
//   - WordPiece and byte-level BPE ids equal the reference tokenizers' (Transformers'
//     BertTokenizer with do_lower_case, GPT-2's encoder as RobertaTokenizer uses it) on
//     every 53rd corpus prompt and on edge cases. BERT's newer NFC pre-normalisation is not
//     applied. The Unigram tokenizer approximates sentencepiece's precompiled normaliser
//     with NFKC and has no reference parity test (no XLM-R vocabulary is in the shared
//     data).
//   - Embeddings are unit length; on the generated test towers they equal torch's within
//     1e-4.
//
// # Model folders
//
// The text tower takes input_ids (int64 or int32, [batch, 77]) and, when the export
// declares it, attention_mask; it returns text_embeds. The image tower takes pixel_values
// [batch, 3, 224, 224] and returns image_embeds. A folder with neither but a combined
// model.onnx (a whole CLIPModel export) is read too: each call feeds the other tower a
// one-item dummy batch.
// PickScore's temperature comes from Options.LogitScale, else config.json logit_scale or
// logit_scale_init_value (both natural logarithms). HPSv2 folders are opened with
// Options.Preprocessor.Transform = TransformHPSv2.
package embed
