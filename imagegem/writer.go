package imagegem

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/imagegem/imagegem-go/internal/atomicfile"
)

// DefaultRowsPerFile is the number of rows per parquet file a [Writer] writes unless told
// otherwise.
const DefaultRowsPerFile = 1_000_000

// WriterOptions configure [NewWriter]. Nil and the zero value mean the defaults.
type WriterOptions struct {
	// RowsPerFile is the number of table rows per parquet file; 0 means DefaultRowsPerFile.
	// Negative values are invalid.
	RowsPerFile int

	// inputs are files the release is made from ([IngestCivitai]'s pages): no output may
	// replace one.
	inputs []string
}

// resolve returns the options with defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *WriterOptions) resolve() (WriterOptions, error) {
	var r WriterOptions
	if o != nil {
		r = *o
	}
	if r.RowsPerFile < 0 {
		return r, invalid("WriterOptions", "RowsPerFile", "%d is negative", r.RowsPerFile)
	}
	if r.RowsPerFile == 0 {
		r.RowsPerFile = DefaultRowsPerFile
	}
	return r, nil
}

// Writer writes a release in the exact schema of the public tables: ImageGem-images/data/
// and ImageGem-models/data/ with train-NNNNN-of-MMMMM.parquet files, column types as the
// release stores them (0/1 integers for flags, "2006-01-02 15:04:05" texts for times). It is
// used by the synthetic generator and by Civitai ingestion.
//
// Each table (and each folder added with [Writer.AddFolder]) is filled in a temporary
// folder beside its destination and moved into place by Close, so that a failed, aborted
// or cancelled write leaves no half release: the destinations must not exist (an existing
// one is an error wrapping [ErrExists]), and when Close fails after moving some of them it
// removes those again. A Writer is not safe for concurrent use.
type Writer struct {
	ctx        context.Context
	dir        string
	createdDir bool
	opts       WriterOptions
	connector  *duckdb.Connector
	conn       driver.Conn
	tables     [2]*tableWriter
	folders    []folder // the tables' folders, then the added ones
	closed     bool
	published  bool
}

// folder is one output folder being filled: the tables' and the added ones.
type folder struct {
	dir *atomicfile.Dir
	dst string
}

type tableWriter struct {
	name   string
	dir    *atomicfile.Dir
	schema []column
	app    *duckdb.Appender
	rows   int // buffered, not yet in a part file
	parts  int
	total  int
}

// NewWriter starts writing a release into dir (created if needed; it may hold other files,
// but not the release's folders). The writer stops when ctx is cancelled: every later write
// and Close return an error wrapping ctx.Err(), and nothing is left behind.
func NewWriter(ctx context.Context, dir string, opts *WriterOptions) (*Writer, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	w := &Writer{ctx: ctx, dir: dir, opts: o}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		w.createdDir = true
	}
	if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
		return nil, fmt.Errorf("imagegem: writer: %w", err)
	}
	if err := w.start(); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

// AddFolder starts a folder named name beside the two tables, for files that belong with the
// release (the synthetic generator's companion files), and returns the temporary path to
// fill. Close moves it into place with the tables; Abort removes it.
func (w *Writer) AddFolder(name string) (string, error) {
	if err := w.usable(); err != nil {
		return "", err
	}
	if name == "" || name != filepath.Base(name) || name == ImagesDir || name == ModelsDir || name == "." || name == ".." {
		return "", fmt.Errorf("imagegem: writer: folder name %q is not a plain name beside the tables", name)
	}
	d, err := w.createDir(name)
	if err != nil {
		return "", err
	}
	return d.Path(), nil
}

func (w *Writer) createDir(name string) (*atomicfile.Dir, error) {
	dst := filepath.Join(w.dir, name)
	d, err := atomicfile.CreateDir(dst, &atomicfile.Options{Inputs: w.opts.inputs})
	if err != nil {
		return nil, fmt.Errorf("imagegem: writer: %w", err)
	}
	w.folders = append(w.folders, folder{d, dst})
	return d, nil
}

func (w *Writer) start() error {
	for i, t := range []struct {
		name, folder string
		schema       []column
	}{{"images", ImagesDir, imagesSchema}, {"models", ModelsDir, modelsSchema}} {
		d, err := w.createDir(t.folder)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(d.Path(), "data"), atomicfile.DirMode); err != nil {
			return fmt.Errorf("imagegem: writer: %w", err)
		}
		w.tables[i] = &tableWriter{name: t.name, dir: d, schema: t.schema}
	}
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		return fmt.Errorf("imagegem: writer: start DuckDB: %w", err)
	}
	w.connector = c
	conn, err := c.Connect(w.ctx)
	if err != nil {
		return fmt.Errorf("imagegem: writer: %w", err)
	}
	w.conn = conn
	for _, t := range w.tables {
		defs := make([]string, len(t.schema))
		for j, c := range t.schema {
			defs[j] = quoteIdent(c.name) + " " + physicalType(c.kind)
		}
		if err := w.exec("CREATE TABLE " + t.name + " (" + strings.Join(defs, ", ") + ")"); err != nil {
			return err
		}
		app, err := duckdb.NewAppenderFromConn(conn, "", t.name)
		if err != nil {
			return fmt.Errorf("imagegem: writer: %w", err)
		}
		t.app = app
	}
	return nil
}

// usable reports why the writer cannot take more: closed, or its context cancelled.
func (w *Writer) usable() error {
	if w.closed {
		return errors.New("imagegem: writer: closed")
	}
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("imagegem: writer: %w", err)
	}
	return nil
}

// physicalType is the DuckDB type a column is written with, as the public release stores it.
func physicalType(k kind) string {
	switch k {
	case kindInt, kindBool:
		return "BIGINT"
	case kindFloat:
		return "DOUBLE"
	default:
		return "VARCHAR"
	}
}

func (w *Writer) exec(q string) error {
	ex, ok := w.conn.(driver.ExecerContext)
	if !ok {
		return errors.New("imagegem: writer: DuckDB connection cannot execute statements")
	}
	if _, err := ex.ExecContext(w.ctx, q, nil); err != nil {
		if ctxErr := w.ctx.Err(); ctxErr != nil {
			return fmt.Errorf("imagegem: writer: %w", ctxErr)
		}
		return fmt.Errorf("imagegem: writer: %w", firstLine(err))
	}
	return nil
}

// WriteImage writes an image: one row per LoRA version (the release's long format). An image
// needs at least one version.
func (w *Writer) WriteImage(img Image) error {
	if err := w.usable(); err != nil {
		return err
	}
	if len(img.ModelVersionIDs) == 0 {
		return fmt.Errorf("imagegem: writer: image %d has no model version", img.ID)
	}
	g := img.Generation
	for _, v := range img.ModelVersionIDs {
		err := w.append(w.tables[0], img.ID, v, img.PostID, img.URL, img.BlurHash, b01(img.NSFW),
			int64(img.BrowsingLevel), img.Type, img.Height, img.Width, g.Seed, g.Steps, g.Prompt,
			g.NegativePrompt, g.Sampler, g.CFGScale, g.ClipSkip, g.HiresUpscale, g.HiresUpscaler,
			g.DenoisingStrength, timeText(img.CreatedAt), nullIfEmpty(g.Comfy), img.Reactions.Cry,
			img.Reactions.Laugh, img.Reactions.Like, img.Reactions.Dislike, img.Reactions.Heart,
			img.Reactions.Comment, img.UserHash)
		if err != nil {
			return fmt.Errorf("imagegem: writer: image %d: %w", img.ID, err)
		}
	}
	return nil
}

// WriteModelVersion writes a LoRA version: one row per file (a version without files gets one
// row with empty file columns).
func (w *Writer) WriteModelVersion(v ModelVersion) error {
	if err := w.usable(); err != nil {
		return err
	}
	files := v.Files
	if len(files) == 0 {
		files = []ModelFile{{}}
	}
	for _, f := range files {
		err := w.append(w.tables[1], v.ModelID, v.ModelName, v.ID, v.Name, f.ID, f.Name,
			v.ModelDescription, b01(v.AllowNoCredit), nullIfEmpty(v.AllowCommercialUse),
			b01(v.AllowDerivatives), b01(v.AllowDifferentLicense), v.ModelType, b01(v.Minor),
			b01(v.POI), v.ModelNSFWLevel, nullIfEmpty(v.Cosmetic), JoinList(v.Tags),
			timeText(v.PublishedAt), v.BaseModel, v.BaseModelType, v.Availability, v.NSFWLevel,
			v.Description, JoinList(v.TrainedWords), f.SizeKB, f.Type, f.FP, f.Format,
			f.PickleScanResult, f.PickleScanMessage, f.VirusScanResult, f.ScannedAt,
			f.Hashes.AutoV1, f.Hashes.AutoV2, f.Hashes.SHA256, f.Hashes.CRC32, f.Hashes.BLAKE3,
			f.DownloadURL, b01(f.Primary), v.DownloadCount, v.RatingCount, v.Rating,
			v.ThumbsUpCount, v.ThumbsDownCount, v.UserHash)
		if err != nil {
			return fmt.Errorf("imagegem: writer: model version %d: %w", v.ID, err)
		}
	}
	return nil
}

func (w *Writer) append(t *tableWriter, vals ...driver.Value) error {
	if t.total%ctxCheckEvery == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	if err := t.app.AppendRow(vals...); err != nil {
		return err
	}
	t.rows++
	t.total++
	if t.rows >= w.opts.RowsPerFile {
		return w.flush(t)
	}
	return nil
}

// partPath is where the i-th part file of a table is staged until Close knows how many
// there are and gives them their release names.
func partPath(t *tableWriter, i int) string {
	return filepath.Join(t.dir.Path(), "data", fmt.Sprintf("part-%05d.parquet", i))
}

// flush writes the buffered rows of a table as the next part file.
func (w *Writer) flush(t *tableWriter) error {
	if t.rows == 0 {
		return nil
	}
	if err := t.app.Flush(); err != nil {
		return fmt.Errorf("imagegem: writer: %s: %w", t.name, err)
	}
	if err := w.exec(fmt.Sprintf("COPY %s TO %s (FORMAT parquet, COMPRESSION zstd)", t.name, quoteString(partPath(t, t.parts)))); err != nil {
		return err
	}
	if err := w.exec("DELETE FROM " + t.name); err != nil {
		return err
	}
	t.parts++
	t.rows = 0
	return nil
}

// Close writes the remaining rows, names the files train-NNNNN-of-MMMMM.parquet and moves the
// tables and the added folders into place. A table with no rows is an error (an empty table
// is not a release). On any error, and when the writer's context is cancelled, nothing is
// left behind. Calling Close again, or after Abort, does nothing.
func (w *Writer) Close() error {
	switch {
	case w.published:
		return nil
	case w.closed:
		return errors.New("imagegem: writer: aborted")
	}
	defer w.Abort()
	for _, t := range w.tables {
		if err := w.ctx.Err(); err != nil {
			return fmt.Errorf("imagegem: writer: %w", err)
		}
		if err := w.flush(t); err != nil {
			return err
		}
		if t.parts == 0 {
			return fmt.Errorf("imagegem: writer: the %s table has no rows", t.name)
		}
	}
	w.closeDB()
	for _, t := range w.tables {
		for i := 0; i < t.parts; i++ {
			if err := w.ctx.Err(); err != nil {
				return fmt.Errorf("imagegem: writer: %w", err)
			}
			to := filepath.Join(t.dir.Path(), "data", fmt.Sprintf("train-%05d-of-%05d.parquet", i, t.parts))
			if err := moveWithin(w.ctx, partPath(t, i), to); err != nil {
				return fmt.Errorf("imagegem: writer: %w", err)
			}
		}
	}
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("imagegem: writer: %w", err)
	}
	for i, f := range w.folders {
		if err := f.dir.Commit(); err != nil {
			// CreateDir refused existing destinations, so the ones moved so far are ours.
			for _, done := range w.folders[:i] {
				os.RemoveAll(done.dst)
			}
			return fmt.Errorf("imagegem: writer: %w", err)
		}
	}
	w.folders = nil
	w.published = true
	return nil
}

// moveWithin gives a staged part file its release name inside the same unpublished folder
// (a copy through internal/atomicfile, then a removal): the number of parts, and so the
// names, are known only once the last rows are written.
func moveWithin(ctx context.Context, from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := atomicfile.Write(ctx, to, nil, func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	}); err != nil {
		return err
	}
	return os.Remove(from)
}

func (w *Writer) closeDB() {
	for _, t := range w.tables {
		if t != nil && t.app != nil {
			t.app.Close()
			t.app = nil
		}
	}
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
	if w.connector != nil {
		w.connector.Close()
		w.connector = nil
	}
}

// Abort stops writing and removes everything written so far (and dir, when NewWriter
// created it and nothing else is in it). Calling it after Close is harmless.
func (w *Writer) Abort() {
	w.closed = true
	w.closeDB()
	for _, f := range w.folders {
		f.dir.Abort()
	}
	w.folders = nil
	if w.createdDir && !w.published {
		os.Remove(w.dir) // only when empty
	}
}

func b01(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func nullIfEmpty(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

func timeText(t time.Time) driver.Value {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(TimeLayout)
}
