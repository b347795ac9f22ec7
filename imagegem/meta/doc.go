// Package meta reads the generation metadata that Stable Diffusion tools write into the
// images they save, the data the ImageGem release holds for Civitai's images (paper §3.1:
// prompt, negative prompt, sampler, seed, steps, CFG scale, the LoRAs used), so that anyone's
// own folder of generations can become a release (imagegem.IngestFolder).
//
// # Overview
//
// [Read] walks a file's containers and returns every text found ([Entry]) and the parsed
// [Generation]:
//
//   - PNG: tEXt (Latin-1), zTXt and iTXt (UTF-8, compressed or not) chunks, the eXIf chunk;
//   - JPEG: APP1 Exif (IFD0 and the Exif IFD's text tags, UserComment above all) and XMP
//     segments, COM;
//   - WebP: EXIF and XMP chunks;
//   - A1111's "stealth" text in the low bits of the alpha channel or of RGB (the
//     sd_webui_stealth_pnginfo format, plain or gzip), which needs the pixels decoded
//     ([Options.Stealth]).
//
// The parsers read A1111/Forge parameters ([ParseA1111]: prompt, "Negative prompt:", every
// "Key: value" field, "Lora hashes", "TI hashes", "Hashes" JSON, "Civitai resources",
// <lora:…> tags), ComfyUI API and UI graphs by following their links ([ParseComfyUI],
// [ParseComfyUIWorkflow]), NovelAI's Comment JSON v1 to v4.5 ([ParseNovelAI]), InvokeAI's
// metadata ([ParseInvokeAI]), SwarmUI's ([ParseSwarmUI]) and Civitai's image meta and
// civitaiResources ([ParseCivitaiMeta], [ParseCivitaiResources]); [ParseText] picks one by
// the text's shape. Unknown formats give the raw text ([Metadata.Raw]).
// [FormatA1111Text], [AddPNGText] and [AddJPEGUserComment] write the same formats back.
//
// # Invariants
//
//   - Pixel data is skipped with Seek, never read, unless stealth text is looked for.
//   - No length, count or offset from the file is believed before it is checked against
//     what is left of the file or block and against [Options.MaxTextBytes]: a decompression
//     bomb stops at the limit, an EXIF count past its block is refused before anything is
//     allocated. No input panics (every reader and parser is fuzzed).
//   - Prompts are verbatim: weighting syntax, BREAK, LoRA tags and inner line breaks are kept;
//     only the ends are trimmed.
//   - Errors start with "meta: ", wrap [ErrMalformed], [ErrTooLarge], [ErrUnsupported],
//     [ErrSyntax] or [ErrInvalidOptions], and name the chunk or tag and its byte offset.
//   - The package imports none of the project's packages.
package meta
