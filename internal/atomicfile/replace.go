package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// ReplaceDir moves the finished folder src (already synced, in the same file system) to dst,
// replacing the folder at dst if there is one: on Linux the two are exchanged in one atomic
// step and the old folder removed after, so a reader sees the old folder or the new one,
// never neither; elsewhere the old folder is moved aside first and put back if the second
// rename fails. dst must not be a file.
func ReplaceDir(src, dst string) error {
	st, err := os.Lstat(dst)
	if err != nil {
		if !os.IsNotExist(err) {
			return fmt.Errorf("replace %s: %w", dst, err)
		}
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("replace %s: %w", dst, err)
		}
		return syncDir(filepath.Dir(dst))
	}
	if !st.IsDir() {
		return fmt.Errorf("replace %s: not a folder", dst)
	}
	if err := exchange(src, dst); err == nil {
		if err := syncDir(filepath.Dir(dst)); err != nil {
			return err
		}
		return os.RemoveAll(src) // src now holds the old folder
	}
	old, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".old-*")
	if err != nil {
		return fmt.Errorf("replace %s: %w", dst, err)
	}
	aside := filepath.Join(old, "d")
	if err := os.Rename(dst, aside); err != nil {
		os.RemoveAll(old)
		return fmt.Errorf("replace %s: %w", dst, err)
	}
	if err := os.Rename(src, dst); err != nil {
		if rerr := os.Rename(aside, dst); rerr != nil {
			return fmt.Errorf("replace %s: %w (and the old folder is left at %s: %v)", dst, err, aside, rerr)
		}
		os.RemoveAll(old)
		return fmt.Errorf("replace %s: %w", dst, err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return err
	}
	return os.RemoveAll(old)
}
