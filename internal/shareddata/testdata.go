// Package shareddata locates the project's shared test data (../shared/data beside the
// repository, or the folder named by IMAGEGEM_SHARED_DATA) for tests.
//
// Every test that reads the shared data goes through [Path]. When the data is absent the test
// is skipped with a message saying where it looked, so a user's clone still passes; when the
// environment variable CI is set the test fails instead, because CI always has the data and a
// skipped parity test there would hide a regression.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvDir names an environment variable that overrides the shared data folder.
const EnvDir = "IMAGEGEM_SHARED_DATA"

// ModuleRoot returns the repository root: the nearest folder at or above the working
// directory that holds go.mod. It fails the test when there is none.
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("testdata: working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("testdata: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// Root returns the shared data folder, skipping (or, under CI, failing) the test when it is
// absent.
func Root(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = filepath.Join(ModuleRoot(tb), "..", "shared", "data")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		missing(tb, dir)
	}
	return dir
}

// Path returns the path of elem below the shared data folder. The test is skipped (failed
// under CI) when the folder or the named file is absent.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Root(tb)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		missing(tb, p)
	}
	return p
}

func missing(tb testing.TB, p string) {
	tb.Helper()
	msg := "shared test data not found at " + p +
		" (clone the shared data beside the repository or set " + EnvDir + ")"
	if os.Getenv("CI") != "" {
		tb.Fatal(msg + "; CI must have it")
	}
	tb.Skip(msg)
}
