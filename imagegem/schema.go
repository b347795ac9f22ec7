package imagegem

import (
	"fmt"
	"strings"
)

// kind is the family of parquet types a release column may have. The public tables were
// written from pandas, where an integer column with a missing value becomes float64, and a
// timestamp may be stored as text or as a timestamp; each kind accepts exactly the physical
// types that carry its values without loss of meaning, and the views cast to one canonical
// SQL type.
type kind int

const (
	kindInt    kind = iota // integers; floats accepted (pandas' NaN-able ints); viewed as BIGINT
	kindFloat              // any numeric; viewed as DOUBLE
	kindBool               // BOOLEAN or 0/1 integers (or floats); viewed as BOOLEAN
	kindString             // VARCHAR; viewed as VARCHAR
	kindTime               // VARCHAR "2023-09-22 23:51:39" or TIMESTAMP; viewed as TIMESTAMP
)

func (k kind) String() string {
	return [...]string{"integer", "float", "boolean 0/1", "string", "timestamp"}[k]
}

// column is one column of a release table.
type column struct {
	name string
	kind kind
}

// ImagesColumns and ModelsColumns are the column names of the two release tables, in the
// order of the public datasets (data/SCHEMA.md).
var (
	ImagesColumns = names(imagesSchema)
	ModelsColumns = names(modelsSchema)
)

// imagesSchema: MAPS-research/ImageGem-images, 29 columns, one row per (image, LoRA version).
var imagesSchema = []column{
	{"imageId", kindInt}, {"modelVersionId", kindInt}, {"postId", kindInt},
	{"url", kindString}, {"hash", kindString}, {"nsfw", kindBool}, {"browsingLevel", kindInt},
	{"type", kindString}, {"height", kindInt}, {"width", kindInt}, {"seed", kindInt},
	{"steps", kindInt}, {"prompt", kindString}, {"negativePrompt", kindString},
	{"sampler", kindString}, {"cfgScale", kindFloat}, {"clipSkip", kindInt},
	{"hiresUpscale", kindFloat}, {"hiresUpscaler", kindString}, {"denoisingStrength", kindFloat},
	{"createdAt", kindTime}, {"comfy", kindString}, {"cryCount", kindInt}, {"laughCount", kindInt},
	{"likeCount", kindInt}, {"dislikeCount", kindInt}, {"heartCount", kindInt},
	{"commentCount", kindInt}, {"userHash", kindString},
}

// modelsSchema: MAPS-research/ImageGem-models, 45 columns, one row per (model version, file).
var modelsSchema = []column{
	{"modelId", kindInt}, {"modelName", kindString}, {"modelVersionId", kindInt},
	{"modelVersionName", kindString}, {"fileId", kindInt}, {"fileName", kindString},
	{"modelDescription", kindString}, {"allowNoCredit", kindBool},
	{"allowCommercialUse", kindString}, {"allowDerivatives", kindBool},
	{"allowDifferentLicense", kindBool}, {"modelType", kindString}, {"minor", kindBool},
	{"poi", kindBool}, {"modelNsfwLevel", kindInt}, {"cosmetic", kindString}, {"tags", kindString},
	{"publishedAt", kindTime}, {"baseModel", kindString}, {"baseModelType", kindString},
	{"availability", kindString}, {"modelVersionNsfwLevel", kindInt},
	{"modelVersionDescription", kindString}, {"trainedWords", kindString}, {"sizeKB", kindFloat},
	{"fileType", kindString}, {"fp", kindString}, {"format", kindString},
	{"pickleScanResult", kindString}, {"pickleScanMessage", kindString},
	{"virusScanResult", kindString}, {"scannedAt", kindString}, {"hashAutoV1", kindString},
	{"hashAutoV2", kindString}, {"hashSHA256", kindString}, {"hashCRC32", kindString},
	{"hashBLAKE3", kindString}, {"downloadUrl", kindString}, {"primary", kindBool},
	{"downloadCount", kindInt}, {"ratingCount", kindInt}, {"rating", kindFloat},
	{"thumbsUpCount", kindInt}, {"thumbsDownCount", kindInt}, {"userHash", kindString},
}

func names(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// accepts reports whether a DuckDB column type (as DESCRIBE prints it) can hold the kind.
// A column whose every value is missing may be stored with the parquet NULL type, which
// DuckDB reports as "NULL"; it is accepted for every kind.
func (k kind) accepts(duckType string) bool {
	t := strings.ToUpper(duckType)
	isInt := false
	switch t {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
		isInt = true
	}
	isFloat := t == "FLOAT" || t == "DOUBLE" || strings.HasPrefix(t, "DECIMAL")
	isString := t == "VARCHAR"
	isNull := t == "NULL"
	switch k {
	case kindInt, kindFloat, kindBool:
		return isInt || isFloat || (t == "BOOLEAN" && k == kindBool) || isNull
	case kindString:
		return isString || isNull
	case kindTime:
		return isString || strings.HasPrefix(t, "TIMESTAMP") || t == "DATE" || isNull
	}
	return false
}

// selectExpr is the expression that reads the column into its canonical type in a view.
func (c column) selectExpr() string {
	q := quoteIdent(c.name)
	switch c.kind {
	case kindInt:
		return fmt.Sprintf("TRY_CAST(%s AS BIGINT) AS %s", q, q)
	case kindFloat:
		return fmt.Sprintf("CAST(%s AS DOUBLE) AS %s", q, q)
	case kindBool:
		return fmt.Sprintf("TRY_CAST(%s AS BOOLEAN) AS %s", q, q)
	case kindTime:
		return fmt.Sprintf("TRY_CAST(%s AS TIMESTAMP) AS %s", q, q)
	default:
		return fmt.Sprintf("CAST(%s AS VARCHAR) AS %s", q, q)
	}
}

// quoteIdent quotes an SQL identifier for DuckDB.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteString quotes an SQL string literal for DuckDB.
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
