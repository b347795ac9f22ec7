// Package cli holds what every example program of the module shares: the main function's
// frame (Ctrl-C cancels the context, one error prefix, usage on -h), flag sets that print
// their usage, the last-line JSON result and a progress bar drawn only on a terminal.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// ErrUsage marks an error in the command line; Main prints the usage after it and exits with
// status 2.
var ErrUsage = errors.New("usage")

// Usagef returns an error wrapping ErrUsage with a message.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// Run is the body of a program: it reads args (without the program name), writes its
// results to stdout and its progress to stderr, and stops soon after ctx is cancelled.
type Run func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Main runs a program and exits: status 0 on success and on -h, 2 on a usage error, 130
// when interrupted, 1 otherwise. SIGINT and SIGTERM cancel the context; a second signal
// exits at once. The error is printed once, as "name: message" (a message that already
// starts with "name: " is not prefixed again).
func Main(name string, run Run) {
	os.Exit(Exec(name, run, os.Args[1:], os.Stdout, os.Stderr))
}

// Exec is Main without the exit: it returns the exit status.
func Exec(name string, run Run, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal gets the default behaviour: exit at once
	}()
	err := run(ctx, args, stdout, stderr)
	return Status(name, err, ctx, stderr)
}

// Status prints err as Main does and returns the exit status for it.
func Status(name string, err error, ctx context.Context, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, name+": ") {
		msg = name + ": " + msg
	}
	// A flag set named after the program would repeat its name after "usage: ".
	msg = strings.Replace(msg, name+": usage: "+name+": ", name+": usage: ", 1)
	fmt.Fprintln(stderr, msg)
	switch {
	case errors.Is(err, ErrUsage):
		return 2
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}

// NewFlags returns a flag set that reports its errors instead of exiting and prints
// "usage: synopsis" and its flags to stderr on -h or on a bad flag.
func NewFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args with fs. A bad flag returns an error wrapping ErrUsage (the flag package
// has already printed the usage); -h returns flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case err == nil:
		if fs.NArg() > 0 {
			fs.Usage()
			return Usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
		}
		return nil
	case errors.Is(err, flag.ErrHelp):
		return err
	}
	return fmt.Errorf("%w: %s: %v", ErrUsage, fs.Name(), err)
}

// Require returns a usage error naming the first of the flags that is empty.
func Require(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if f := fs.Lookup(n); f == nil || f.Value.String() == "" {
			fs.Usage()
			return Usagef("%s: -%s is required", fs.Name(), n)
		}
	}
	return nil
}

// JSON writes v as one line of JSON: the last line a program prints.
func JSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
