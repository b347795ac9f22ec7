package house

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/imagegem/imagegem-go"

// allowed lists, for each library package, the project packages its non-test files may
// import (internal/ packages are free for all, and a package may import its own
// subpackages' internals). Dependencies point down the table, never up. w2w imports cuda
// only in files behind the cuda build tag.
var allowed = map[string][]string{
	"imagegem":                 {"imagegem/meta"},
	"imagegem/meta":            {},
	"imagegem/synth":           {"imagegem"},
	"embed/ftfy":               {},
	"embed":                    {"embed/ftfy"},
	"embed/hdbscan":            {},
	"safety":                   {"embed"},
	"dpo":                      {"embed", "embed/hdbscan"},
	"recsys":                   {},
	"recsys/vlm":               {"recsys"},
	"recsys/recsystest":        {"recsys"},
	"w2w":                      {"w2w/safetensors", "cuda"},
	"w2w/safetensors":          {},
	"w2w/personalize":          {"w2w", "w2w/safetensors", "embed", "embed/hdbscan", "recsys/vlm"},
	"cuda":                     {},
	"cuda/internal/hostkernel": {},
}

// free reports whether pkg may be imported by anyone: the internal helpers.
func free(from, pkg string) bool {
	if strings.HasPrefix(pkg, "internal/") {
		return true
	}
	return strings.HasPrefix(pkg, from+"/internal/")
}

func TestImportsFollowThePackageTable(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	fset := token.NewFileSet()
	imports := map[string]map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if n == "testdata" || n == "third_party" || n == "bin" || (strings.HasPrefix(n, ".") && p != root) {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		if pkg == "." || strings.HasPrefix(pkg, "examples/") || strings.HasPrefix(pkg, "scripts/") || strings.HasPrefix(pkg, "internal/") {
			return nil // the programs and helpers wire everything
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, module+"/") {
				imports[pkg][strings.TrimPrefix(path, module+"/")] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, imports, "w2w", "the walk found the packages")
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		ok, listed := allowed[p]
		if !assert.True(t, listed, "package %s is not in the package table", p) {
			continue
		}
		for imp := range imports[p] {
			if free(p, imp) {
				continue
			}
			assert.Contains(t, ok, imp, "%s must not import %s", p, imp)
		}
	}
}
