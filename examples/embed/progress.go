package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBarWidth is the number of cells of the bar.
const progressBarWidth = 30

// progressBar draws "label [=====     ] done/total rate/s" on one terminal line.
type progressBar struct {
	w     io.Writer
	label string
	start time.Time
	drawn bool
}

func newProgressBar(w io.Writer, label string) *progressBar {
	return &progressBar{w: w, label: label, start: time.Now()}
}

func (p *progressBar) update(done, total int) {
	if total <= 0 {
		return
	}
	cells := progressBarWidth * done / total
	rate := float64(done) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %.1f/s", p.label, strings.Repeat("=", cells),
		strings.Repeat(" ", progressBarWidth-cells), done, total, rate)
	p.drawn = true
}

func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
