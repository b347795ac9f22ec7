package imagegem

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/duckdb/duckdb-go/v2"
)

// Stats holds every cell of paper Table 1 for a release.
//
// Definitions (the paper states them in footnotes only; these are ours, chosen to match them):
//   - Images: distinct imageId in the images table.
//   - UniquePrompts: distinct non-empty prompt texts (exact text, no trimming).
//   - LoRAs: distinct modelVersionId in the models table (LoRA checkpoints).
//   - ModelTags: distinct tags after splitting each version's tags on ", " and trimming.
//   - Users: distinct userHash in the images table (image makers).
//   - Uploaders: distinct userHash in the models table.
//   - AvgImagesPerUploader: distinct images made by each uploader (images whose userHash is
//     the uploader's), averaged over all uploaders except TopUploader (†).
//   - AvgModelsPerUploader: LoRA versions uploaded by each uploader, averaged over all
//     uploaders except TopUploader (†).
//   - AvgImagesPerModel: image–version links (distinct imageId, modelVersionId pairs of the
//     images table whose version is in the models table) per LoRA version. An image made with
//     three LoRAs counts once for each (‡, the paper's double counting).
//   - TopUploader: the uploader with the most LoRA versions (ties: the smallest userHash).
type Stats struct {
	Images               int64   `json:"images"`
	UniquePrompts        int64   `json:"unique_prompts"`
	LoRAs                int64   `json:"loras"`
	ModelTags            int64   `json:"model_tags"`
	Users                int64   `json:"users"`
	Uploaders            int64   `json:"uploaders"`
	AvgImagesPerUploader float64 `json:"avg_images_per_uploader"`
	AvgModelsPerUploader float64 `json:"avg_models_per_uploader"`
	AvgImagesPerModel    float64 `json:"avg_images_per_model"`
	TopUploader          string  `json:"top_uploader"`
}

// Stats computes paper Table 1's "Raw" row for the release.
func (r *Release) Stats(ctx context.Context) (Stats, error) {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("imagegem: stats: %w", err)
	}
	defer conn.Close()
	return statsOver(ctx, conn, ImagesView, ModelsView)
}

// SafetyFilter names the unsafe prompts to remove, as a list, as a file, or both. The file is
// a parquet or CSV table (CSV with a header) with a column named by Column.
type SafetyFilter struct {
	// Prompts are unsafe prompt texts, compared exactly.
	Prompts []string
	// File is a .parquet or .csv table of unsafe prompts.
	File string
	// Column is the prompt column of File; empty means "prompt".
	Column string
}

var tableSeq atomic.Int64

// FilteredStats computes paper Table 1's "Filtered" row: every image whose prompt is unsafe
// (§3.2: Detoxify's unsafe probability above 0.2; the filter gives the prompts) is removed
// with all its rows, and a LoRA version that had images and lost all of them is removed with
// its files. Versions that never had an image stay. Users and uploaders are recounted over
// what remains (the paper repeats the raw users count).
func (r *Release) FilteredStats(ctx context.Context, f SafetyFilter) (Stats, error) {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("imagegem: filtered stats: %w", err)
	}
	defer conn.Close()
	n := tableSeq.Add(1)
	unsafe := fmt.Sprintf("unsafe_prompts_%d", n)
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE "+unsafe+" (prompt VARCHAR)"); err != nil {
		return Stats{}, fmt.Errorf("imagegem: filtered stats: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+unsafe) //nolint:errcheck
	if len(f.Prompts) > 0 {
		err := conn.Raw(func(dc any) error {
			a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", unsafe)
			if err != nil {
				return err
			}
			for _, p := range f.Prompts {
				if err := a.AppendRow(p); err != nil {
					a.Close()
					return err
				}
			}
			return a.Close()
		})
		if err != nil {
			return Stats{}, fmt.Errorf("imagegem: filtered stats: load unsafe prompts: %w", err)
		}
	}
	if f.File != "" {
		col := f.Column
		if col == "" {
			col = "prompt"
		}
		reader := "read_parquet"
		if strings.HasSuffix(strings.ToLower(f.File), ".csv") {
			reader = "read_csv_auto"
		}
		q := fmt.Sprintf("INSERT INTO %s SELECT CAST(%s AS VARCHAR) FROM %s(%s)", unsafe, quoteIdent(col), reader, quoteString(f.File))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return Stats{}, fmt.Errorf("imagegem: safety filter file %s: column %q: %w", f.File, col, firstLine(err))
		}
	}
	imgs := fmt.Sprintf("filtered_images_%d", n)
	mods := fmt.Sprintf("filtered_models_%d", n)
	views := []string{
		fmt.Sprintf(`CREATE TEMP VIEW %s AS SELECT * FROM images WHERE "imageId" NOT IN (
			SELECT "imageId" FROM images WHERE "prompt" IN (SELECT prompt FROM %s))`, imgs, unsafe),
		fmt.Sprintf(`CREATE TEMP VIEW %s AS SELECT * FROM models WHERE
			"modelVersionId" NOT IN (SELECT "modelVersionId" FROM images WHERE "modelVersionId" IS NOT NULL)
			OR "modelVersionId" IN (SELECT "modelVersionId" FROM %s)`, mods, imgs),
	}
	for _, v := range views {
		if _, err := conn.ExecContext(ctx, v); err != nil {
			return Stats{}, fmt.Errorf("imagegem: filtered stats: %w", firstLine(err))
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+imgs) //nolint:errcheck
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+mods) //nolint:errcheck
	return statsOver(ctx, conn, imgs, mods)
}

// statsOver computes Table 1 over an images and a models relation.
func statsOver(ctx context.Context, conn *sql.Conn, images, models string) (Stats, error) {
	var s Stats
	q := fmt.Sprintf(`SELECT count(DISTINCT "imageId"),
		count(DISTINCT "prompt") FILTER (WHERE "prompt" <> ''),
		count(DISTINCT "userHash")
		FROM %s`, images)
	if err := conn.QueryRowContext(ctx, q).Scan(&s.Images, &s.UniquePrompts, &s.Users); err != nil {
		return Stats{}, fmt.Errorf("imagegem: stats: images: %w", firstLine(err))
	}
	q = fmt.Sprintf(`SELECT count(DISTINCT "modelVersionId"), count(DISTINCT "userHash") FROM %s`, models)
	if err := conn.QueryRowContext(ctx, q).Scan(&s.LoRAs, &s.Uploaders); err != nil {
		return Stats{}, fmt.Errorf("imagegem: stats: models: %w", firstLine(err))
	}
	q = fmt.Sprintf(`SELECT count(DISTINCT t) FROM (
		SELECT trim(unnest(string_split("tags", ', '))) AS t
		FROM (SELECT DISTINCT "tags" FROM %s WHERE "tags" IS NOT NULL)) WHERE t <> ''`, models)
	if err := conn.QueryRowContext(ctx, q).Scan(&s.ModelTags); err != nil {
		return Stats{}, fmt.Errorf("imagegem: stats: tags: %w", firstLine(err))
	}
	q = fmt.Sprintf(`SELECT count(*) FROM (SELECT DISTINCT "imageId", "modelVersionId" FROM %s
		WHERE "modelVersionId" IN (SELECT "modelVersionId" FROM %s))`, images, models)
	var links int64
	if err := conn.QueryRowContext(ctx, q).Scan(&links); err != nil {
		return Stats{}, fmt.Errorf("imagegem: stats: links: %w", firstLine(err))
	}
	if s.LoRAs > 0 {
		s.AvgImagesPerModel = float64(links) / float64(s.LoRAs)
	}
	// Per-uploader versions and images; the top uploader is the one with most versions.
	q = fmt.Sprintf(`WITH u AS (SELECT "userHash" AS h, count(DISTINCT "modelVersionId") AS v
			FROM %[2]s WHERE "userHash" IS NOT NULL GROUP BY 1),
		i AS (SELECT "userHash" AS h, count(DISTINCT "imageId") AS n FROM %[1]s
			WHERE "userHash" IN (SELECT h FROM u) GROUP BY 1),
		top AS (SELECT h FROM u ORDER BY v DESC, h LIMIT 1)
		SELECT (SELECT h FROM top),
			coalesce(sum(u.v) FILTER (WHERE u.h <> (SELECT h FROM top)), 0),
			coalesce(sum(coalesce(i.n, 0)) FILTER (WHERE u.h <> (SELECT h FROM top)), 0)
		FROM u LEFT JOIN i ON u.h = i.h`, images, models)
	var top sql.NullString
	var versions, imgs float64
	if err := conn.QueryRowContext(ctx, q).Scan(&top, &versions, &imgs); err != nil {
		return Stats{}, fmt.Errorf("imagegem: stats: uploaders: %w", firstLine(err))
	}
	s.TopUploader = top.String
	if s.Uploaders > 1 {
		s.AvgModelsPerUploader = versions / float64(s.Uploaders-1)
		s.AvgImagesPerUploader = imgs / float64(s.Uploaders-1)
	}
	return s, nil
}
