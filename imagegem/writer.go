package imagegem

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// DefaultRowsPerFile is the number of rows per parquet file a [Writer] writes unless told
// otherwise.
const DefaultRowsPerFile = 1_000_000

// WriterOptions configure [NewWriter]. The zero value means the defaults.
type WriterOptions struct {
	// RowsPerFile is the number of table rows per parquet file; 0 means DefaultRowsPerFile.
	RowsPerFile int
}

// Writer writes a release in the exact schema of the public tables: ImageGem-images/data/
// and ImageGem-models/data/ with train-NNNNN-of-MMMMM.parquet files, column types as the
// release stores them (0/1 integers for flags, "2006-01-02 15:04:05" texts for times). It is
// used by the synthetic generator and by Civitai ingestion.
//
// Everything is written to a temporary folder inside dir and moved into place by Close, so
// an interrupted write leaves no half release; Close refuses to replace existing tables.
type Writer struct {
	dir, tmp    string
	rowsPerFile int
	connector   *duckdb.Connector
	conn        driver.Conn
	tables      [2]*tableWriter
	closed      bool
}

type tableWriter struct {
	name, folder string
	schema       []column
	app          *duckdb.Appender
	rows, parts  int
}

// NewWriter starts writing a release into dir (created if needed).
func NewWriter(dir string, opts *WriterOptions) (*Writer, error) {
	w := &Writer{dir: dir, rowsPerFile: DefaultRowsPerFile}
	if opts != nil && opts.RowsPerFile > 0 {
		w.rowsPerFile = opts.RowsPerFile
	}
	for _, sub := range []string{ImagesDir, ModelsDir} {
		if _, err := os.Stat(filepath.Join(dir, sub)); err == nil {
			return nil, fmt.Errorf("imagegem: writer: %s already exists; refusing to overwrite", filepath.Join(dir, sub))
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("imagegem: writer: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".imagegem-write-")
	if err != nil {
		return nil, fmt.Errorf("imagegem: writer: %w", err)
	}
	w.tmp = tmp
	if err := w.start(); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

func (w *Writer) start() error {
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		return fmt.Errorf("imagegem: writer: start DuckDB: %w", err)
	}
	w.connector = c
	conn, err := c.Connect(context.Background())
	if err != nil {
		return fmt.Errorf("imagegem: writer: %w", err)
	}
	w.conn = conn
	for i, t := range []struct {
		name, folder string
		schema       []column
	}{{"images", ImagesDir, imagesSchema}, {"models", ModelsDir, modelsSchema}} {
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
		if err := os.MkdirAll(filepath.Join(w.tmp, t.folder, "data"), 0o755); err != nil {
			return fmt.Errorf("imagegem: writer: %w", err)
		}
		w.tables[i] = &tableWriter{name: t.name, folder: t.folder, schema: t.schema, app: app}
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
	if _, err := ex.ExecContext(context.Background(), q, nil); err != nil {
		return fmt.Errorf("imagegem: writer: %w", firstLine(err))
	}
	return nil
}

// WriteImage writes an image: one row per LoRA version (the release's long format). An image
// needs at least one version.
func (w *Writer) WriteImage(img Image) error {
	if w.closed {
		return errors.New("imagegem: writer: closed")
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
	if w.closed {
		return errors.New("imagegem: writer: closed")
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
	if err := t.app.AppendRow(vals...); err != nil {
		return err
	}
	t.rows++
	if t.rows >= w.rowsPerFile {
		return w.flush(t)
	}
	return nil
}

// flush writes the buffered rows of a table as the next part file.
func (w *Writer) flush(t *tableWriter) error {
	if t.rows == 0 {
		return nil
	}
	if err := t.app.Flush(); err != nil {
		return fmt.Errorf("imagegem: writer: %s: %w", t.name, err)
	}
	part := filepath.Join(w.tmp, t.folder, "data", fmt.Sprintf("part-%05d.parquet", t.parts))
	if err := w.exec(fmt.Sprintf("COPY %s TO %s (FORMAT parquet, COMPRESSION zstd)", t.name, quoteString(part))); err != nil {
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
// two tables into place. A table with no rows is an error (an empty table is not a release).
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	defer w.Abort()
	for _, t := range w.tables {
		if err := w.flush(t); err != nil {
			return err
		}
		if t.parts == 0 {
			return fmt.Errorf("imagegem: writer: the %s table has no rows", t.name)
		}
		data := filepath.Join(w.tmp, t.folder, "data")
		for i := 0; i < t.parts; i++ {
			from := filepath.Join(data, fmt.Sprintf("part-%05d.parquet", i))
			to := filepath.Join(data, fmt.Sprintf("train-%05d-of-%05d.parquet", i, t.parts))
			if err := os.Rename(from, to); err != nil {
				return fmt.Errorf("imagegem: writer: %w", err)
			}
		}
	}
	w.closeDB()
	for _, t := range w.tables {
		dst := filepath.Join(w.dir, t.folder)
		if _, err := os.Stat(dst); err == nil {
			return fmt.Errorf("imagegem: writer: %s appeared while writing; refusing to overwrite", dst)
		}
		if err := os.Rename(filepath.Join(w.tmp, t.folder), dst); err != nil {
			return fmt.Errorf("imagegem: writer: %w", err)
		}
	}
	return nil
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

// Abort stops writing and removes everything written so far. Calling it after Close is
// harmless.
func (w *Writer) Abort() {
	w.closed = true
	w.closeDB()
	if w.tmp != "" {
		os.RemoveAll(w.tmp)
		w.tmp = ""
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
