// Package atomicfile writes the files users keep so that a reader never sees half of one.
//
// # Contract
//
// Every output of the library and its programs (LoRA files, spaces, directions, models,
// indexes, release tables, exports) goes through this package:
//
//   - the bytes go to a temporary file in the destination's folder (so the final rename never
//     crosses a file system), named ".NAME.tmp-RANDOM";
//   - Commit flushes the file to disk (fsync), sets mode 0644, renames it over the destination
//     and fsyncs the folder, so that after Commit returns the new file survives a power cut;
//   - a destination that is one of the operation's inputs (the same path, a hard link to it, a
//     symbolic link to it or from it) is refused with ErrOverwritesInput before anything is
//     written, and checked again at Commit;
//   - on any error, on Abort and on a cancelled context the temporary file is removed and the
//     destination is left as it was.
//
// Errors name the destination ("write out.safetensors: no space left on device") and carry no
// package prefix: the calling package adds its own.
package atomicfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Mode is the permission of every committed file; folders get DirMode.
const (
	Mode    fs.FileMode = 0o644
	DirMode fs.FileMode = 0o755
)

// ErrOverwritesInput reports a destination that is one of the operation's inputs.
var ErrOverwritesInput = errors.New("destination is one of the inputs")

// ErrExists reports a folder destination that already exists (a folder cannot be replaced
// atomically, so CreateDir refuses one).
var ErrExists = errors.New("destination folder exists")

// Options configures an output. The zero value (and nil) means no inputs to protect.
type Options struct {
	// Inputs are the files read to make the output. A destination that is any of them is
	// refused.
	Inputs []string
}

func (o *Options) inputs() []string {
	if o == nil {
		return nil
	}
	return o.Inputs
}

// CheckInputs returns an error wrapping ErrOverwritesInput when dst names the same file as any
// of inputs: the same path, a hard link, or a symbolic link in either direction. Inputs that do
// not exist are ignored, and so is a dst that does not exist yet unless its path equals an
// input's.
func CheckInputs(dst string, inputs ...string) error {
	absDst, err := filepath.Abs(dst)
	if err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	dstInfo, dstErr := os.Stat(dst)
	for _, in := range inputs {
		if in == "" {
			continue
		}
		if absIn, err := filepath.Abs(in); err == nil && absIn == absDst {
			return fmt.Errorf("write %s: %w (%s)", dst, ErrOverwritesInput, in)
		}
		if dstErr != nil {
			continue
		}
		inInfo, err := os.Stat(in)
		if err != nil {
			continue
		}
		if os.SameFile(dstInfo, inInfo) {
			return fmt.Errorf("write %s: %w (%s)", dst, ErrOverwritesInput, in)
		}
	}
	return nil
}

// File is an output being written. Write to it, then Commit; or Abort. It is not safe for
// concurrent use.
type File struct {
	f      *os.File
	path   string
	inputs []string
	done   bool
}

// Create starts writing path: it checks the inputs and creates the temporary file.
func Create(path string, opts *Options) (*File, error) {
	if path == "" {
		return nil, errors.New("write: empty path")
	}
	inputs := opts.inputs()
	if err := CheckInputs(path, inputs...); err != nil {
		return nil, err
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("write %s: is a folder", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &File{f: f, path: path, inputs: append([]string(nil), inputs...)}, nil
}

// Name returns the temporary file's path, for writers that need a path of their own.
func (f *File) Name() string { return f.f.Name() }

// Path returns the destination.
func (f *File) Path() string { return f.path }

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if f.done {
		return 0, fmt.Errorf("write %s: %w", f.path, os.ErrClosed)
	}
	n, err := f.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", f.path, err)
	}
	return n, nil
}

// Commit syncs the temporary file, gives it mode 0644, renames it over the destination and
// syncs the folder. On error the temporary file is removed.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("write %s: %w", f.path, os.ErrClosed)
	}
	f.done = true
	tmp := f.f.Name()
	fail := func(err error) error {
		f.f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err := f.f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.f.Chmod(Mode); err != nil {
		return fail(err)
	}
	if err := f.f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if err := CheckInputs(f.path, f.inputs...); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, f.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return syncDir(filepath.Dir(f.path))
}

// Abort removes the temporary file. It is harmless after Commit or a second Abort.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	os.Remove(f.f.Name())
}

// Write writes path with fn, committing only when fn returns nil and ctx is not cancelled.
// Writes through w fail once ctx is cancelled, so a long fn stops promptly.
func Write(ctx context.Context, path string, opts *Options, fn func(w io.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := Create(path, opts)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := fn(ctxWriter{ctx: ctx, f: f}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// WriteFile writes data to path atomically.
func WriteFile(ctx context.Context, path string, data []byte, opts *Options) error {
	return Write(ctx, path, opts, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

type ctxWriter struct {
	ctx context.Context
	f   *File
}

func (w ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, fmt.Errorf("write %s: %w", w.f.path, err)
	}
	return w.f.Write(p)
}

// Dir is an output folder being filled: files go below Path and Commit renames the folder
// into place. A folder cannot replace another atomically, so the destination must not exist.
type Dir struct {
	tmp, path string
	inputs    []string
	done      bool
}

// CreateDir starts writing the folder path: it creates a temporary folder beside it.
func CreateDir(path string, opts *Options) (*Dir, error) {
	if path == "" {
		return nil, errors.New("write: empty path")
	}
	inputs := opts.inputs()
	if err := CheckInputs(path, inputs...); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("write %s: %w", path, ErrExists)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, DirMode); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &Dir{tmp: tmp, path: path, inputs: append([]string(nil), inputs...)}, nil
}

// Path returns the temporary folder to write into.
func (d *Dir) Path() string { return d.tmp }

// Commit syncs every file below the temporary folder, renames it to the destination and
// syncs the parent folder. On error the temporary folder is removed.
func (d *Dir) Commit() error {
	if d.done {
		return fmt.Errorf("write %s: %w", d.path, os.ErrClosed)
	}
	d.done = true
	fail := func(err error) error {
		os.RemoveAll(d.tmp)
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	err := filepath.WalkDir(d.tmp, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		return syncPath(p)
	})
	if err != nil {
		return fail(err)
	}
	if err := CheckInputs(d.path, d.inputs...); err != nil {
		os.RemoveAll(d.tmp)
		return err
	}
	if _, err := os.Lstat(d.path); err == nil {
		return fail(ErrExists)
	}
	if err := os.Rename(d.tmp, d.path); err != nil {
		return fail(err)
	}
	return syncDir(filepath.Dir(d.path))
}

// Abort removes the temporary folder. It is harmless after Commit or a second Abort.
func (d *Dir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.tmp)
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename in dir durable. File systems that cannot sync a folder report
// EINVAL or ENOTSUP; those are not errors here.
func syncDir(dir string) error {
	err := syncPath(dir)
	if err != nil && !isSyncUnsupported(err) {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}
