package embed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Environment variables that name the ONNX Runtime shared library, in the order they are
// consulted. The second is the one onnxruntime_go's own tests use.
const (
	EnvLibrary       = "IMAGEGEM_ONNXRUNTIME_LIB"
	EnvLibraryCompat = "ONNXRUNTIME_SHARED_LIBRARY_PATH"
)

// fetchedLibrary is where scripts/onnxruntime.sh puts the library, relative to the folder
// that holds go.mod.
var fetchedLibrary = filepath.Join("third_party", "onnxruntime", "linux-x64", "libonnxruntime.so.1")

// standardLibraryPaths are the places a system-wide ONNX Runtime is usually installed.
var standardLibraryPaths = []string{
	"/usr/local/lib/libonnxruntime.so",
	"/usr/local/lib/libonnxruntime.so.1",
	"/usr/lib/libonnxruntime.so",
	"/usr/lib/libonnxruntime.so.1",
	"/usr/lib/x86_64-linux-gnu/libonnxruntime.so",
	"/usr/lib/x86_64-linux-gnu/libonnxruntime.so.1",
	"/usr/lib/aarch64-linux-gnu/libonnxruntime.so.1",
}

// ErrNoRuntime is returned (wrapped, with every path tried) when no ONNX Runtime shared
// library can be found.
var ErrNoRuntime = errors.New("embed: onnx runtime library not found")

// RuntimeOptions configures the process-wide ONNX Runtime environment. The zero value
// discovers the library as described in [LibraryCandidates].
type RuntimeOptions struct {
	// Library is the path of libonnxruntime; empty means discover it.
	Library string
}

// resolve returns a copy of o; nil means the zero value. Every value of Library is
// accepted here: InitRuntime checks that the file exists.
func (o *RuntimeOptions) resolve() RuntimeOptions {
	if o == nil {
		return RuntimeOptions{}
	}
	return *o
}

var runtimeState struct {
	sync.Mutex
	ready   bool
	library string
}

// LibraryCandidates returns, in order, the paths the library is looked for at: the file
// named by IMAGEGEM_ONNXRUNTIME_LIB, by ONNXRUNTIME_SHARED_LIBRARY_PATH, the standard system
// paths, then the project's fetched copy third_party/onnxruntime/linux-x64/ below the folder
// holding go.mod found by walking up from the working directory and from the executable.
func LibraryCandidates() []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	add(os.Getenv(EnvLibrary))
	add(os.Getenv(EnvLibraryCompat))
	if runtime.GOOS == "linux" {
		for _, p := range standardLibraryPaths {
			add(p)
		}
	}
	starts := []string{}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		if root, ok := moduleRoot(dir); ok {
			add(filepath.Join(root, fetchedLibrary))
		}
	}
	return out
}

// moduleRoot walks up from dir to the nearest folder holding go.mod.
func moduleRoot(dir string) (string, bool) {
	for {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !st.IsDir() {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// FindLibrary returns the first of [LibraryCandidates] that is a regular file. The error
// wraps [ErrNoRuntime] and names every path tried.
func FindLibrary() (string, error) {
	cands := LibraryCandidates()
	for _, p := range cands {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (run scripts/onnxruntime.sh or set %s); tried: %s",
		ErrNoRuntime, EnvLibrary, strings.Join(cands, ", "))
}

// InitRuntime loads ONNX Runtime and initialises its environment once for the process.
// Later calls return nil without reloading; a call naming a different library than the
// one already loaded is an error. Sessions call it themselves, so users need it only to
// choose the library or to fail early.
// A nil opts discovers the library.
func InitRuntime(opts *RuntimeOptions) error {
	o := opts.resolve()
	runtimeState.Lock()
	defer runtimeState.Unlock()
	lib := o.Library
	if runtimeState.ready {
		if lib != "" && lib != runtimeState.library {
			return fmt.Errorf("embed: onnx runtime already initialised from %s, cannot switch to %s",
				runtimeState.library, lib)
		}
		return nil
	}
	if lib == "" {
		var err error
		if lib, err = FindLibrary(); err != nil {
			return err
		}
	} else if st, err := os.Stat(lib); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a readable file", ErrNoRuntime, lib)
	}
	if !ort.IsInitialized() {
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			return fmt.Errorf("embed: initialise onnx runtime from %s: %w", lib, err)
		}
	}
	runtimeState.ready = true
	runtimeState.library = lib
	return nil
}

// RuntimeLibrary returns the path the runtime was loaded from, or "" before [InitRuntime].
func RuntimeLibrary() string {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	return runtimeState.library
}

// RuntimeVersion returns the loaded ONNX Runtime's version string, or "" before
// [InitRuntime].
func RuntimeVersion() string {
	runtimeState.Lock()
	defer runtimeState.Unlock()
	if !runtimeState.ready {
		return ""
	}
	return ort.GetVersion()
}
