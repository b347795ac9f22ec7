// Command embed embeds images and prompts with a CLIP model folder and prints CLIP token
// ids.
//
//	embed images   -model DIR -images FOLDER (-out FILE.parquet | -store DIR)
//	embed texts    -model DIR -in prompts.txt (-out FILE.parquet | -store DIR)
//	embed tokenize (-vocab FILE.txt.gz | -model DIR) -in prompts.txt
//
// images and texts write one row per input (path or line, unit-length embedding, and for
// images the error when one could not be read) and draw a progress bar on stderr when it is
// a terminal. With -store they fill an embedding store (embed.CreateStore) instead: image
// ids are the numeric file names (38824499.jpeg), prompt ids embed.PromptKey(line); ids
// the store already holds are skipped, so a run that was stopped resumes where its last
// complete shard ends. tokenize prints, for each input line, the 77 ids of clip.tokenize(line,
// truncate=True) separated by spaces, with the text pipeline of -text-family (openai,
// open_clip or hf; see embed.TextFamily). Every command ends with one line of JSON on stdout
// that sums up what it did. Ctrl-C stops the work and writes nothing.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/imagegem/imagegem-go/embed"
	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/cli"
)

// imageRow is one row of the images output.
type imageRow struct {
	Path      string    `parquet:"path"`
	Embedding []float32 `parquet:"embedding,list"`
	Error     string    `parquet:"error,optional"`
}

// textRow is one row of the texts output.
type textRow struct {
	Line      int64     `parquet:"line"`
	Text      string    `parquet:"text"`
	Embedding []float32 `parquet:"embedding,list"`
}

// summary is the last line the images and texts commands print.
type summary struct {
	Command string  `json:"command"`
	Items   int     `json:"items"`
	Failed  int     `json:"failed"`
	Dim     int     `json:"dim"`
	Out     string  `json:"out,omitempty"`
	Store   string  `json:"store,omitempty"`
	Skipped int     `json:"skipped,omitempty"`
	Seconds float64 `json:"seconds"`
}

// imageExts are the file types the images command picks up.
var imageExts = []string{".jpg", ".jpeg", ".png", ".webp", ".gif"}

const usage = "embed images|texts|tokenize [flags] (embed COMMAND -h for its flags)"

func main() { cli.Main("embed", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: %s\n", usage)
		return cli.Usagef("a command is required")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stderr, "usage: %s\n", usage)
		return flag.ErrHelp
	case "tokenize":
		return tokenize(args[1:], stdout, stderr)
	case "images", "texts":
		return encode(ctx, args[0], args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "usage: %s\n", usage)
	return cli.Usagef("unknown command %q (want images, texts or tokenize)", args[0])
}

func encode(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	synopsis := "embed texts -model DIR -in prompts.txt (-out FILE.parquet | -store DIR) [flags]"
	if cmd == "images" {
		synopsis = "embed images -model DIR -images FOLDER (-out FILE.parquet | -store DIR) [flags]"
	}
	fs := cli.NewFlags("embed "+cmd, synopsis, stderr)
	model := fs.String("model", "", "model folder (onnx/text_model.onnx, onnx/vision_model.onnx, config files)")
	in, images, transform := new(string), new(string), new(string)
	if cmd == "images" {
		fs.StringVar(images, "images", "", "folder of images (.jpg, .jpeg, .png, .webp, .gif), searched recursively")
		fs.StringVar(transform, "transform", "clip", "image transform: clip, clip-hf or hpsv2")
	} else {
		fs.StringVar(in, "in", "", "text file, one prompt per line")
	}
	family := fs.String("text-family", "", "text pipeline: openai, open_clip or hf (default: the model folder's)")
	out := fs.String("out", "", "output parquet file")
	store := fs.String("store", "", "embedding store folder to fill (resumable), instead of -out")
	vocab := fs.String("vocab", "", "CLIP BPE vocabulary bpe_simple_vocab_16e6.txt.gz, overriding the folder's")
	batch := fs.Int("batch", 0, "items per run (default 32)")
	threads := fs.Int("threads", 0, "ONNX Runtime intra-op threads (default: one per core)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	input := *in
	if cmd == "images" {
		input = *images
	}
	if err := cli.Require(fs, "model", map[string]string{"images": "images", "texts": "in"}[cmd]); err != nil {
		return err
	}
	if (*out == "") == (*store == "") {
		fs.Usage()
		return cli.Usagef("embed %s: one of -out and -store is required", cmd)
	}
	if *out != "" {
		if err := atomicfile.CheckInputs(*out, input); err != nil {
			return err
		}
	}
	bar := cli.NewBar(stderr)
	defer bar.Done()
	opts := &embed.Options{Vocabulary: *vocab, BatchSize: *batch, TextFamily: embed.TextFamily(*family),
		Session: embed.SessionOptions{IntraOpThreads: *threads}, Progress: bar.Report}
	start := time.Now()
	var s summary
	var err error
	if cmd == "images" {
		tr, terr := parseTransform(*transform)
		if terr != nil {
			return terr
		}
		opts.ImageOnly = true
		opts.Preprocessor.Transform = tr
		if *store != "" {
			s, err = storeImages(ctx, *model, input, *store, opts)
		} else {
			s, err = embedImages(ctx, *model, input, *out, opts)
		}
	} else {
		opts.TextOnly = true
		if *store != "" {
			s, err = storeTexts(ctx, *model, input, *store, opts)
		} else {
			s, err = embedTexts(ctx, *model, input, *out, opts)
		}
	}
	if err != nil {
		return err
	}
	bar.Done()
	s.Command, s.Out, s.Store, s.Seconds = cmd, *out, *store, time.Since(start).Seconds()
	dest := s.Out
	if dest == "" {
		dest = "the store " + s.Store
	}
	fmt.Fprintf(stdout, "%d %s embedded, %d failed, %d already stored, written to %s\n", s.Items-s.Failed-s.Skipped, cmd, s.Failed, s.Skipped, dest)
	return cli.JSON(stdout, s)
}

func parseTransform(s string) (embed.Transform, error) {
	for _, t := range []embed.Transform{embed.TransformCLIP, embed.TransformCLIPHF, embed.TransformHPSv2} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, cli.Usagef("unknown -transform %q (want clip, clip-hf or hpsv2)", s)
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", path, len(lines)+1, err)
	}
	return lines, nil
}

func tokenize(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("embed tokenize", "embed tokenize (-vocab FILE.txt.gz | -model DIR) -in prompts.txt", stderr)
	model := fs.String("model", "", "model folder whose CLIP tokenizer files to read")
	vocab := fs.String("vocab", "", "CLIP BPE vocabulary bpe_simple_vocab_16e6.txt.gz")
	in := fs.String("in", "", "text file, one prompt per line")
	family := fs.String("text-family", "", "text pipeline: openai, open_clip or hf (default: openai for -vocab, the folder's for -model)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Require(fs, "in"); err != nil {
		return err
	}
	var tok *embed.CLIPTokenizer
	var err error
	switch {
	case *vocab != "":
		tok, err = embed.LoadCLIPTokenizer(*vocab)
	case *model != "":
		tok, err = embed.LoadCLIPTokenizerFromFolder(*model)
	default:
		fs.Usage()
		return cli.Usagef("embed tokenize: -vocab or -model is required")
	}
	if err == nil && *family != "" && embed.TextFamily(*family) != tok.Family() {
		tok, err = tok.WithFamily(embed.TextFamily(*family))
	}
	if err != nil {
		return err
	}
	lines, err := readLines(*in)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	buf := make([]byte, 0, 512)
	truncated := 0
	ids := make([]int64, embed.ContextLength)
	for _, line := range lines {
		if tok.TokenizeInto(ids, line) {
			truncated++
		}
		buf = buf[:0]
		for i, id := range ids {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = strconv.AppendInt(buf, id, 10)
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return cli.JSON(stdout, map[string]any{"command": "tokenize", "text_family": tok.Family(), "lines": len(lines), "truncated": truncated})
}

// imagePaths lists the images below dir.
func imagePaths(dir string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(p))) {
			paths = append(paths, p)
		}
		return nil
	})
	return paths, err
}

// storeChunk is how many items go through the model between two additions to the store.
const storeChunk = 1024

// chunkProgress makes the per-call progress of the encoders one count over all chunks:
// set *base to the items done before each call and *total to the items to do.
func chunkProgress(opts *embed.Options, base, total *int) {
	report := opts.Progress
	if report == nil {
		return
	}
	o := *opts
	o.Progress = func(p embed.Progress) {
		p.Done += *base
		p.Total = *total
		report(p)
	}
	*opts = o
}

// openStore opens the model and the store of its vectors; the store's model name is the
// model folder's name.
func openStore(ctx context.Context, model, store string, opts *embed.Options) (*embed.Model, *embed.StoreWriter, error) {
	m, err := embed.Open(ctx, model, opts)
	if err != nil {
		return nil, nil, err
	}
	abs, err := filepath.Abs(model)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	w, err := embed.CreateStore(store, &embed.StoreOptions{Model: filepath.Base(abs), Dim: m.Dim()})
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, w, nil
}

// storeImages embeds the images below dir whose ids the store lacks. An image's id is its
// numeric file name; any other name is an error before anything is embedded.
func storeImages(ctx context.Context, model, dir, store string, opts *embed.Options) (summary, error) {
	paths, err := imagePaths(dir)
	if err != nil {
		return summary{}, err
	}
	ids := make([]uint64, len(paths))
	for i, p := range paths {
		stem := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		id, err := strconv.ParseUint(stem, 10, 64)
		if err != nil {
			return summary{}, fmt.Errorf("%s: the store needs image files named by their numeric id", p)
		}
		ids[i] = id
	}
	var base, total int
	chunkProgress(opts, &base, &total)
	m, w, err := openStore(ctx, model, store, opts)
	if err != nil {
		return summary{}, err
	}
	defer m.Close()
	s := summary{Items: len(paths), Dim: m.Dim()}
	var todo []int
	for i, id := range ids {
		if w.Has(id) {
			s.Skipped++
		} else {
			todo = append(todo, i)
		}
	}
	total = len(todo)
	for lo := 0; lo < len(todo); lo += storeChunk {
		base = lo
		part := todo[lo:min(lo+storeChunk, len(todo))]
		batch := make([]string, len(part))
		for i, k := range part {
			batch[i] = paths[k]
		}
		embs, errs, err := m.EncodeImages(ctx, batch)
		if err != nil {
			return summary{}, err
		}
		var okIDs []uint64
		var okVecs []float32
		for i, k := range part {
			if errs[i] != nil {
				s.Failed++
				continue
			}
			okIDs = append(okIDs, ids[k])
			okVecs = append(okVecs, embs[i*s.Dim:(i+1)*s.Dim]...)
		}
		if err := w.Add(ctx, okIDs, okVecs); err != nil {
			return summary{}, err
		}
	}
	return s, w.Close(ctx)
}

// storeTexts embeds the lines of in whose prompt keys the store lacks.
func storeTexts(ctx context.Context, model, in, store string, opts *embed.Options) (summary, error) {
	lines, err := readLines(in)
	if err != nil {
		return summary{}, err
	}
	var base, total int
	chunkProgress(opts, &base, &total)
	m, w, err := openStore(ctx, model, store, opts)
	if err != nil {
		return summary{}, err
	}
	defer m.Close()
	s := summary{Items: len(lines), Dim: m.Dim()}
	var todo []string
	var todoIDs []uint64
	seen := map[uint64]bool{}
	for _, l := range lines {
		id := embed.PromptKey(l)
		if w.Has(id) || seen[id] {
			s.Skipped++
			continue
		}
		seen[id] = true
		todo, todoIDs = append(todo, l), append(todoIDs, id)
	}
	total = len(todo)
	for lo := 0; lo < len(todo); lo += storeChunk {
		base = lo
		hi := min(lo+storeChunk, len(todo))
		embs, err := m.EncodeText(ctx, todo[lo:hi])
		if err != nil {
			return summary{}, err
		}
		if err := w.Add(ctx, todoIDs[lo:hi], embs); err != nil {
			return summary{}, err
		}
	}
	return s, w.Close(ctx)
}

func embedImages(ctx context.Context, model, dir, out string, opts *embed.Options) (summary, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(p))) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return summary{}, err
	}
	m, err := embed.Open(ctx, model, opts)
	if err != nil {
		return summary{}, err
	}
	defer m.Close()
	embs, errs, err := m.EncodeImages(ctx, paths)
	if err != nil {
		return summary{}, err
	}
	d := m.Dim()
	rows := make([]imageRow, len(paths))
	failed := 0
	for i, p := range paths {
		rows[i] = imageRow{Path: p, Embedding: embs[i*d : (i+1)*d]}
		if errs[i] != nil {
			rows[i] = imageRow{Path: p, Error: errs[i].Error()}
			failed++
		}
	}
	if err := writeParquet(ctx, out, dir, rows); err != nil {
		return summary{}, err
	}
	return summary{Items: len(paths), Failed: failed, Dim: d}, nil
}

func embedTexts(ctx context.Context, model, in, out string, opts *embed.Options) (summary, error) {
	lines, err := readLines(in)
	if err != nil {
		return summary{}, err
	}
	m, err := embed.Open(ctx, model, opts)
	if err != nil {
		return summary{}, err
	}
	defer m.Close()
	embs, err := m.EncodeText(ctx, lines)
	if err != nil {
		return summary{}, err
	}
	d := m.Dim()
	rows := make([]textRow, len(lines))
	for i, l := range lines {
		rows[i] = textRow{Line: int64(i + 1), Text: l, Embedding: embs[i*d : (i+1)*d]}
	}
	if err := writeParquet(ctx, out, in, rows); err != nil {
		return summary{}, err
	}
	return summary{Items: len(lines), Dim: d}, nil
}

// writeParquet writes rows to out atomically; it refuses to overwrite the input.
func writeParquet[T any](ctx context.Context, out, input string, rows []T) error {
	return atomicfile.Write(ctx, out, &atomicfile.Options{Inputs: []string{input}}, func(f io.Writer) error {
		w := parquet.NewGenericWriter[T](f, parquet.Compression(&parquet.Zstd))
		if _, err := w.Write(rows); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
		return nil
	})
}
