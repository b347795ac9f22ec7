package w2w

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/imagegem/imagegem-go/internal/progress"
	"github.com/imagegem/imagegem-go/w2w/safetensors"
)

// pipelineBatch is the number of modules [ReduceFile] hands to a backend at once when the
// backend states no batch size of its own: small enough that the reduction starts while the
// file is still being decoded, large enough that the CPU backend's workers share each batch.
const pipelineBatch = 8

// pipelineDepth is the number of decoded batches that may wait for the reduction; it bounds
// how far decoding runs ahead.
const pipelineDepth = 4

// ReduceFile reads the LoRA file at path and reduces every module to rank 1 (paper §4.3),
// overlapping the two: modules go to the backend in small batches as soon as their factors
// are decoded, so on a multi-core machine the reduction runs while the rest of the file is
// still being read. The result is the same, bit for bit, as [LoadLoRA] followed by [Reduce]
// (PEFT adapter_config.json alphas included); opts is used as Reduce uses it, with Progress
// counting modules.
func ReduceFile(ctx context.Context, path string, opts *ReduceOptions) (*Reduced, error) {
	o := opts.resolve()
	be := o.Backend
	batch := pipelineBatch
	if _, ok := be.(BatchSizer); ok {
		batch = reduceBatchSize(be)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	setAlpha := adapterAlpha(filepath.Join(filepath.Dir(path), "adapter_config.json"))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan []*Module, pipelineDepth)
	results := map[string]Rank1Module{}
	var redErr error
	total := 0
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done := 0
		for mods := range jobs {
			if redErr != nil {
				continue // drain, so that the parser never blocks
			}
			out := make([]Rank1Module, len(mods))
			if err := reduceModules(ctx, be, mods, out); err != nil {
				redErr = err
				cancel()
				continue
			}
			for _, rm := range out {
				results[rm.Name] = rm
			}
			done += len(mods)
			progress.Func(o.Progress).Report(Progress{Stage: "reduce", Done: done, Total: total})
		}
	}()
	var pending []*Module
	parsedName := map[string]string{} // source prefix -> the module's name when it was reduced
	l, perr := parseLoRA(f, func(l *LoRA, m *Module, n int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if l.Convention == PEFT && setAlpha != nil {
			setAlpha(m)
		}
		if pending == nil {
			total = n // written before the first send, read by the reducer after it
		}
		c := *m
		parsedName[m.Source] = m.Name
		pending = append(pending, &c)
		if len(pending) >= batch {
			jobs <- pending
			pending = []*Module{}
		}
		return nil
	})
	if perr == nil && len(pending) > 0 {
		jobs <- pending
	}
	close(jobs)
	<-finished
	switch {
	case redErr != nil:
		return nil, fmt.Errorf("w2w: reduce %s (%s backend): %w", path, be.Name(), redErr)
	case perr != nil && ctx.Err() != nil && perr == ctx.Err():
		return nil, fmt.Errorf("w2w: reduce %s: %w", path, perr)
	case perr != nil:
		return nil, perr
	}
	out := &Reduced{Path: l.Path, Family: l.Family, Convention: l.Convention, Metadata: l.Metadata}
	out.Modules = make([]Rank1Module, len(l.Modules))
	for i := range l.Modules {
		// The family table may rename a module or give it its base kernel after the parse.
		m := &l.Modules[i]
		rm := results[parsedName[m.Source]]
		rm.Name, rm.Component, rm.Kind, rm.Attn, rm.Kernel = m.Name, m.Component, m.Kind, m.Attn, m.Kernel
		out.Modules[i] = rm
	}
	return out, nil
}
