package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imagegem/imagegem-go/internal/progress"
)

const barWidth = 30

// Bar draws progress reports as "stage [=====     ] done/total rate/s" on one line of a
// terminal. On anything but a terminal it draws nothing.
type Bar struct {
	w      io.Writer
	on     bool
	stage  string
	start  time.Time
	drawn  bool
	last   time.Time
	minGap time.Duration
}

// NewBar returns a bar drawing on w when w is a terminal.
func NewBar(w io.Writer) *Bar {
	return &Bar{w: w, on: IsTerminal(w), minGap: 100 * time.Millisecond}
}

// Report draws p; it is a progress.Func.
func (b *Bar) Report(p progress.Progress) {
	if b == nil || !b.on {
		return
	}
	now := time.Now()
	if p.Stage != b.stage {
		b.Done()
		b.stage, b.start = p.Stage, now
	} else if p.Done != p.Total && now.Sub(b.last) < b.minGap {
		return
	}
	b.last = now
	line := p.Stage
	if p.Total > 0 {
		cells := barWidth * min(p.Done, p.Total) / p.Total
		line += fmt.Sprintf(" [%s%s] %d/%d", strings.Repeat("=", cells), strings.Repeat(" ", barWidth-cells), p.Done, p.Total)
	} else {
		line += fmt.Sprintf(" %d", p.Done)
	}
	if s := now.Sub(b.start).Seconds(); s > 0 {
		line += fmt.Sprintf(" %.1f/s", float64(p.Done)/s)
	}
	if p.Loss != 0 {
		line += fmt.Sprintf(" loss %.4f", p.Loss)
	}
	fmt.Fprintf(b.w, "\r%s\x1b[K", line)
	b.drawn = true
}

// Done ends the bar's line.
func (b *Bar) Done() {
	if b != nil && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
