// Package clitest runs the example programs as users do, as processes, for their tests.
package clitest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ExitWithin is how soon a program must exit after SIGINT.
const ExitWithin = 2 * time.Second

// Build compiles the program in the test's package folder and returns the binary's path.
func Build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the program: skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "prog")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer is a bytes.Buffer safe for the writer goroutines of exec.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Result is what an interrupted program did.
type Result struct {
	Stdout, Stderr string
	// Exit is the time from the signal to the exit.
	Exit time.Duration
	// Status is the exit status.
	Status int
}

// Interrupt starts bin with args and sends it SIGINT once its stdout or stderr contains
// ready (or after wait when ready is ""). It fails the test when the program ends before the
// signal, or does not exit within ExitWithin of it, or exits with status 0.
func Interrupt(t *testing.T, bin string, args []string, ready string, wait time.Duration) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(4 * time.Minute)
	if ready == "" {
		deadline = time.Now().Add(wait)
	}
	for {
		if ready != "" && (strings.Contains(stdout.String(), ready) || strings.Contains(stderr.String(), ready)) {
			break
		}
		if time.Now().After(deadline) {
			if ready != "" {
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("%q never appeared in the output:\nstdout:\n%s\nstderr:\n%s", ready, stdout.String(), stderr.String())
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("program ended before the signal (%v):\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("signal: %v", err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(ExitWithin):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("no exit within %v of SIGINT:\nstdout:\n%s\nstderr:\n%s", ExitWithin, stdout.String(), stderr.String())
	}
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), Exit: time.Since(sent)}
	var ee *exec.ExitError
	switch {
	case err == nil:
		t.Fatalf("exit status 0 after SIGINT:\nstdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
	case errors.As(err, &ee):
		r.Status = ee.ExitCode()
	default:
		t.Fatalf("wait: %v", err)
	}
	return r
}

// Files lists the regular files under dir, relative to it, so that a test can assert that an
// interrupted program left nothing behind.
func Files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}
