// Command embed embeds images and prompts with a CLIP model folder and prints CLIP token
// ids.
//
//	embed images   -model DIR -in FOLDER      -out FILE.parquet
//	embed texts    -model DIR -in prompts.txt -out FILE.parquet
//	embed tokenize (-vocab FILE.txt.gz | -model DIR) -in prompts.txt
//
// images and texts write one row per input (path or line, unit-length embedding, and for
// images the error when one could not be read) and show a progress bar on stderr.
// tokenize prints, for each input line, the 77 ids of clip.tokenize(line, truncate=True)
// separated by spaces.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/imagegem/imagegem-go/embed"
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

// outputMode is the permission of written parquet files.
const outputMode = 0o644

// imageExts are the file types the images command picks up.
var imageExts = []string{".jpg", ".jpeg", ".png", ".webp", ".gif"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: embed images|texts|tokenize [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "model folder (onnx/text_model.onnx, onnx/vision_model.onnx, config files)")
	in := fs.String("in", "", "input folder (images) or text file, one prompt per line")
	out := fs.String("out", "", "output parquet file")
	vocab := fs.String("vocab", "", "CLIP BPE vocabulary bpe_simple_vocab_16e6.txt.gz (tokenize, or to override the folder's)")
	batch := fs.Int("batch", 0, "items per run (default 32)")
	transform := fs.String("transform", "clip", "image transform: clip, clip-hf or hpsv2")
	threads := fs.Int("threads", 0, "ONNX Runtime intra-op threads (default: one per core)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("-in is required")
	}
	switch args[0] {
	case "tokenize":
		return tokenize(*vocab, *model, *in, stdout)
	case "images", "texts":
	default:
		return fmt.Errorf("unknown command %q (want images, texts or tokenize)", args[0])
	}
	if *model == "" || *out == "" {
		return errors.New("-model and -out are required")
	}
	opts := embed.Options{Vocabulary: *vocab, BatchSize: *batch, Session: embed.SessionOptions{IntraOpThreads: *threads}}
	bar := newProgressBar(stderr, args[0])
	opts.Progress = bar.update
	switch args[0] {
	case "images":
		tr, err := parseTransform(*transform)
		if err != nil {
			return err
		}
		opts.ImageOnly = true
		opts.Preprocessor.Transform = tr
		return images(ctx, *model, *in, *out, opts, bar)
	default:
		opts.TextOnly = true
		return texts(ctx, *model, *in, *out, opts, bar)
	}
}

func parseTransform(s string) (embed.Transform, error) {
	for _, t := range []embed.Transform{embed.TransformCLIP, embed.TransformCLIPHF, embed.TransformHPSv2} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown -transform %q (want clip, clip-hf or hpsv2)", s)
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

func tokenize(vocab, model, in string, stdout io.Writer) error {
	var tok *embed.CLIPTokenizer
	var err error
	switch {
	case vocab != "":
		tok, err = embed.LoadCLIPTokenizer(vocab)
	case model != "":
		tok, err = embed.LoadFolderTokenizer(model)
	default:
		return errors.New("tokenize needs -vocab or -model")
	}
	if err != nil {
		return err
	}
	lines, err := readLines(in)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	buf := make([]byte, 0, 512)
	for _, line := range lines {
		buf = buf[:0]
		for i, id := range tok.Tokenize(line) {
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
	return w.Flush()
}

func images(ctx context.Context, model, dir, out string, opts embed.Options, bar *progressBar) error {
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
		return err
	}
	m, err := embed.Open(model, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	embs, errs, err := m.EncodeImages(ctx, paths)
	bar.done()
	if err != nil {
		return err
	}
	rows := make([]imageRow, len(paths))
	failed := 0
	for i, p := range paths {
		rows[i] = imageRow{Path: p, Embedding: embs[i]}
		if errs[i] != nil {
			rows[i].Error = errs[i].Error()
			failed++
		}
	}
	if err := writeParquet(out, []string{dir}, rows); err != nil {
		return err
	}
	fmt.Fprintf(bar.w, "%d images embedded, %d failed, written to %s\n", len(paths)-failed, failed, out)
	return nil
}

func texts(ctx context.Context, model, in, out string, opts embed.Options, bar *progressBar) error {
	lines, err := readLines(in)
	if err != nil {
		return err
	}
	m, err := embed.Open(model, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	embs, err := m.EncodeText(ctx, lines)
	bar.done()
	if err != nil {
		return err
	}
	rows := make([]textRow, len(lines))
	for i, l := range lines {
		rows[i] = textRow{Line: int64(i + 1), Text: l, Embedding: embs[i]}
	}
	if err := writeParquet(out, []string{in}, rows); err != nil {
		return err
	}
	fmt.Fprintf(bar.w, "%d texts embedded, written to %s\n", len(lines), out)
	return nil
}

// writeParquet writes rows to a temporary file beside out and renames it into place; it
// refuses to overwrite any of the inputs.
func writeParquet[T any](out string, inputs []string, rows []T) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	for _, in := range inputs {
		if a, err := filepath.Abs(in); err == nil && a == abs {
			return fmt.Errorf("output %s is an input", out)
		}
	}
	f, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	w := parquet.NewGenericWriter[T](f, parquet.Compression(&parquet.Zstd))
	if _, err := w.Write(rows); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := w.Close(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	// CreateTemp makes the file private; the output is an ordinary 0644 file.
	if err := f.Chmod(outputMode); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), abs)
}
