// Package ftfy is ftfy.fix_text (https://github.com/rspeer/python-ftfy, version
// [ReferenceVersion]) with its default configuration: the text cleaning OpenAI's CLIP and
// open_clip run before byte-pair encoding (clip/simple_tokenizer.py basic_clean), so that
// embed's CLIP tokenizer sees the text the reference models were trained on (paper §3.3,
// §4.1: prompt embeddings).
//
// # Overview
//
// [FixText] splits its input after every line break (and every 1,000,000 characters, ftfy's
// max_decode_length) and fixes each segment until it no longer changes, in ftfy's order:
//
//   - HTML entities are unescaped ("auto": only while no segment so far contained '<'),
//     with ftfy's entity table (HTML5 names and their upper-cased forms, "&NTILDE;").
//   - Mojibake is repaired: when the text looks bad (ftfy's badness heuristic) and can be
//     encoded in one of latin-1, sloppy-windows-1252/1251/1250/1253/1254/1257, iso-8859-2,
//     macroman or cp437, it is encoded so and decoded as UTF-8 (or ftfy's utf-8-variants:
//     CESU-8 and the two-byte NUL), restoring bytes 0xA0 turned into spaces and sequences
//     lost to '�' on the way; mixed text is fixed piece by piece (decode_inconsistent_utf8);
//     latin-1 text with C1 characters is read as windows-1252.
//   - C1 controls become their windows-1252 characters; Latin ligatures (ﬁ, ĳ, ǆ) are
//     split; full-width and half-width forms take their usual width; curly quotes become
//     straight ones; every line break becomes "\n"; terminal escapes and invisible control
//     characters are removed; the result is NFC-normalised.
//
// The data tables (codecs, entities, width, ligatures, control characters and the
// regular expressions with their character classes expanded) are generated from the
// ftfy package itself by scripts/gen_ftfy_tables.py into tables.go.
//
// # Invariants
//
//   - The output equals ftfy.fix_text's on ftfy's own test cases (its tests/test_cases.json)
//     and on every prompt of the shared corpus; the parity tests list any exception.
//   - FixText never panics. Invalid UTF-8 becomes U+FFFD, one per byte that Go's decoder
//     rejects, except that UTF-16 surrogates encoded as UTF-8 (WTF-8, "\xed\xa0\xbd...") are
//     read as ftfy's fix_surrogates reads surrogate code points: a high and low pair is the
//     character it encodes, a lone one U+FFFD. A Go string cannot hold a lone surrogate, so
//     this happens before the other steps rather than in fix_surrogates' place.
//   - FixText is idempotent wherever ftfy is: the fuzz test checks FixText(FixText(s)) ==
//     FixText(s) on inputs without mojibake repairs that ftfy itself would redo.
//   - Each fixing loop stops after [maxRounds] rounds; ftfy has no bound, and no input is
//     known that needs more than a few.
package ftfy
