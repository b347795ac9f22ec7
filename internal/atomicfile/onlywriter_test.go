package atomicfile

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeCalls are the os functions that create or replace files. Outside this package, the
// library and its programs write files only through it (scratch folders from os.MkdirTemp
// are not outputs and are allowed).
var writeCalls = map[string]bool{
	"Rename": true, "CreateTemp": true, "WriteFile": true, "Create": true, "OpenFile": true,
	"Link": true, "Symlink": true,
}

// TestEveryWriterGoesThroughAtomicfile parses every non-test Go file of the module and fails
// on a call of one of writeCalls outside internal/atomicfile.
func TestEveryWriterGoesThroughAtomicfile(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "module root")
	self := filepath.Join(root, "internal", "atomicfile")
	fset := token.NewFileSet()
	var found []string
	files := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p == self || name == "testdata" || name == "third_party" || name == "bin" || (strings.HasPrefix(name, ".") && p != root) {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // another module (beam/) has its own check
				}
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		osName := ""
		for _, imp := range f.Imports {
			if imp.Path.Value == `"os"` {
				osName = "os"
				if imp.Name != nil {
					osName = imp.Name.Name
				}
			}
		}
		if osName == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == osName && writeCalls[sel.Sel.Name] {
				rel, _ := filepath.Rel(root, fset.Position(sel.Pos()).Filename)
				found = append(found, rel+":"+strconv.Itoa(fset.Position(sel.Pos()).Line)+": os."+sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, files, 50, "the walk found the module's files")
	assert.Empty(t, found, "files are written only through internal/atomicfile")
}
