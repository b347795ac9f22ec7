package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/imagegem/imagegem-go/internal/progress"
	"github.com/stretchr/testify/assert"
)

func TestStatusPrefixesOnceAndMapsErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		err    error
		status int
		out    string
	}{
		{nil, 0, ""},
		{fmt.Errorf("x: %w", errHelpLike()), 0, ""},
		{errors.New("w2w: bad file"), 1, "w2w: bad file\n"},
		{errors.New("bad file"), 1, "w2w: bad file\n"},
		{Usagef("-in is required"), 2, "w2w: usage: -in is required\n"},
		{Usagef("w2w: -in is required"), 2, "w2w: usage: -in is required\n"},
		{fmt.Errorf("reduce: %w", context.Canceled), 130, "w2w: reduce: context canceled\n"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		assert.Equal(t, c.status, Status("w2w", c.err, ctx, &b), "%v", c.err)
		assert.Equal(t, c.out, b.String())
	}
}

func errHelpLike() error {
	fs := NewFlags("x", "x", io.Discard)
	return Parse(fs, []string{"-h"})
}

func TestFlagsPrintUsageOnHelp(t *testing.T) {
	var b bytes.Buffer
	fs := NewFlags("reduce", "w2w reduce -in LORA -out LORA", &b)
	fs.String("in", "", "input LoRA")
	err := Parse(fs, []string{"-h"})
	assert.Equal(t, 0, Status("w2w", err, context.Background(), io.Discard))
	assert.Contains(t, b.String(), "usage: w2w reduce -in LORA -out LORA")
	assert.Contains(t, b.String(), "input LoRA")

	b.Reset()
	err = Parse(fs, []string{"-nope"})
	assert.ErrorIs(t, err, ErrUsage)
	err = Parse(fs, []string{"extra"})
	assert.ErrorIs(t, err, ErrUsage)
	assert.ErrorIs(t, Require(fs, "in"), ErrUsage)
}

func TestBarDrawsOnlyOnATerminal(t *testing.T) {
	var b bytes.Buffer
	bar := NewBar(&b)
	bar.Report(progress.Progress{Stage: "fit", Done: 1, Total: 2})
	bar.Done()
	assert.Empty(t, b.String(), "a buffer is not a terminal")
	on := &Bar{w: &b, on: true}
	on.Report(progress.Progress{Stage: "fit", Done: 1, Total: 2})
	on.Done()
	assert.Contains(t, b.String(), "fit [===============               ] 1/2")
}

func TestJSONIsOneLine(t *testing.T) {
	var b bytes.Buffer
	assert.NoError(t, JSON(&b, map[string]any{"a": 1, "b": []int{1, 2}}))
	assert.Equal(t, "{\"a\":1,\"b\":[1,2]}\n", b.String())
}
