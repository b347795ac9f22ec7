package imagegem

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	// The DuckDB driver registers itself with database/sql as "duckdb".
	_ "github.com/duckdb/duckdb-go/v2"
)

// Folder names of the two datasets as they are downloaded from the Hugging Face Hub.
const (
	ImagesDir = "ImageGem-images"
	ModelsDir = "ImageGem-models"
)

// View names under which the tables are visible to [Release.Query].
const (
	ImagesView = "images"
	ModelsView = "models"
)

// Options configure [Open]. Nil and the zero value mean the defaults.
type Options struct {
	// Threads is the number of DuckDB worker threads; 0 means runtime.NumCPU(). Negative
	// values are invalid.
	Threads int
	// MemoryLimit is DuckDB's memory_limit (for example "1GB"); empty means DuckDB's
	// default, 80% of the machine's memory. Above it DuckDB spills to TempDir.
	MemoryLimit string
	// TempDir is where DuckDB spills; empty means DuckDB's default.
	TempDir string
}

// memorySize is the shape of a DuckDB memory_limit: a number and a unit ("4GB", "512 MiB").
var memorySize = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? *[A-Za-z]*$`)

// resolve returns the options with defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Threads < 0 {
		return r, invalid("Options", "Threads", "%d is negative", r.Threads)
	}
	if r.Threads == 0 {
		r.Threads = runtime.NumCPU()
	}
	if r.MemoryLimit != "" && !memorySize.MatchString(r.MemoryLimit) {
		return r, invalid("Options", "MemoryLimit", "%q is not a size such as \"4GB\"", r.MemoryLimit)
	}
	return r, nil
}

// Release is an opened ImageGem release. It is safe for concurrent use.
type Release struct {
	db         *sql.DB
	dir        string
	opts       Options
	imageFiles []string
	modelFiles []string
}

// Open opens the release whose two dataset folders, ImageGem-images/ and ImageGem-models/,
// are in dir. Every parquet file anywhere below each folder belongs to its table. The files'
// columns and types are checked; a missing column, a wrong type, an unreadable file or an
// empty table is an error naming the file and the column. The files are read in place by an
// embedded DuckDB, whose threads, memory limit and spill folder [Options] set.
func Open(ctx context.Context, dir string, opts *Options) (*Release, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	imageFiles, err := parquetFiles(filepath.Join(dir, ImagesDir))
	if err != nil {
		return nil, err
	}
	modelFiles, err := parquetFiles(filepath.Join(dir, ModelsDir))
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("imagegem: start DuckDB: %w", err)
	}
	r := &Release{db: db, dir: dir, opts: o, imageFiles: imageFiles, modelFiles: modelFiles}
	if err := r.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return r, nil
}

func (r *Release) init(ctx context.Context) error {
	o := r.opts
	settings := []string{fmt.Sprintf("SET threads = %d", o.Threads)}
	if o.MemoryLimit != "" {
		settings = append(settings, "SET memory_limit = "+quoteString(o.MemoryLimit))
	}
	if o.TempDir != "" {
		settings = append(settings, "SET temp_directory = "+quoteString(o.TempDir))
	}
	for _, s := range settings {
		if _, err := r.db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("imagegem: %s: %w", s, err)
		}
	}
	if err := r.createView(ctx, ImagesView, "images", imagesSchema, r.imageFiles); err != nil {
		return err
	}
	return r.createView(ctx, ModelsView, "models", modelsSchema, r.modelFiles)
}

// createView checks each file's columns against the schema and creates the typed view.
func (r *Release) createView(ctx context.Context, view, table string, schema []column, files []string) error {
	for _, f := range files {
		if err := r.checkFile(ctx, table, schema, f); err != nil {
			return err
		}
	}
	exprs := make([]string, len(schema))
	for i, c := range schema {
		exprs[i] = c.selectExpr()
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quoteString(f)
	}
	q := fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT %s FROM read_parquet([%s], union_by_name = true)",
		quoteIdent(view), strings.Join(exprs, ", "), strings.Join(quoted, ", "))
	if _, err := r.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("imagegem: %s table: create view: %w", table, err)
	}
	var n int64
	if err := r.db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(view)).Scan(&n); err != nil {
		return fmt.Errorf("imagegem: %s table: count rows: %w", table, err)
	}
	if n == 0 {
		return fmt.Errorf("imagegem: %s table is empty: no rows in %d file(s): %s: %w", table, len(files), strings.Join(files, ", "), ErrSchema)
	}
	return nil
}

// checkFile reads one parquet file's schema and compares it with the table's.
func (r *Release) checkFile(ctx context.Context, table string, schema []column, file string) error {
	rows, err := r.db.QueryContext(ctx, "DESCRIBE SELECT * FROM read_parquet("+quoteString(file)+")")
	if err != nil {
		return fmt.Errorf("imagegem: %s table: file %s: unreadable: %w", table, file, firstLine(err))
	}
	defer rows.Close()
	types := map[string]string{}
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("imagegem: %s table: file %s: %w", table, file, err)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("imagegem: %s table: file %s: read schema: %w", table, file, err)
		}
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		types[name] = typ
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("imagegem: %s table: file %s: unreadable: %w", table, file, firstLine(err))
	}
	for _, c := range schema {
		typ, ok := types[c.name]
		if !ok {
			return fmt.Errorf("imagegem: %s table: file %s: column %q is missing: %w", table, file, c.name, ErrSchema)
		}
		if !c.kind.accepts(typ) {
			return fmt.Errorf("imagegem: %s table: file %s: column %q has type %s, want %s: %w", table, file, c.name, typ, c.kind, ErrSchema)
		}
	}
	return nil
}

// firstLine keeps the first line of a DuckDB error, which repeats the query below it.
func firstLine(err error) error {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return errors.New(strings.TrimSpace(s[:i]))
	}
	return err
}

// parquetFiles lists the .parquet files below dir, sorted.
func parquetFiles(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("imagegem: release folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("imagegem: release folder: %s is not a folder", dir)
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(strings.ToLower(d.Name()), ".parquet") {
			abs, err := filepath.Abs(p)
			if err != nil {
				return err
			}
			files = append(files, abs)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("imagegem: list %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("imagegem: no .parquet files below %s: %w", dir, ErrSchema)
	}
	sort.Strings(files)
	return files, nil
}

// Dir returns the folder the release was opened from.
func (r *Release) Dir() string { return r.dir }

// Files returns the parquet files of the images and the models tables.
func (r *Release) Files() (images, models []string) {
	return append([]string(nil), r.imageFiles...), append([]string(nil), r.modelFiles...)
}

// DB returns the underlying database handle, whose views "images" and "models" hold the
// two tables with canonical column types. It stays owned by the Release.
func (r *Release) DB() *sql.DB { return r.db }

// Query runs the user's own SQL over the views "images" and "models" (the escape hatch).
func (r *Release) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := r.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("imagegem: query: %w", err)
	}
	return rows, nil
}

// Close releases the database.
func (r *Release) Close() error { return r.db.Close() }
