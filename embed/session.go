package embed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// SessionOptions configures one ONNX Runtime session. The zero value runs on the CPU with
// ONNX Runtime's default thread counts.
type SessionOptions struct {
	// IntraOpThreads and InterOpThreads set ONNX Runtime's thread pools; 0 keeps its
	// defaults (one intra-op thread per physical core).
	IntraOpThreads int
	InterOpThreads int
	// CUDA appends the CUDA execution provider on device CUDADevice. The session fails to
	// open when the loaded ONNX Runtime was built without it.
	CUDA       bool
	CUDADevice int
}

// resolve validates o; nil means the zero value. Errors wrap ErrInvalidOptions.
func (o *SessionOptions) resolve() (SessionOptions, error) {
	var r SessionOptions
	if o != nil {
		r = *o
	}
	switch {
	case r.IntraOpThreads < 0:
		return r, invalid("Session.IntraOpThreads", "%d is negative", r.IntraOpThreads)
	case r.InterOpThreads < 0:
		return r, invalid("Session.InterOpThreads", "%d is negative", r.InterOpThreads)
	case r.CUDADevice < 0:
		return r, invalid("Session.CUDADevice", "%d is negative", r.CUDADevice)
	case r.CUDADevice != 0 && !r.CUDA:
		return r, invalid("Session.CUDADevice", "%d is set without CUDA", r.CUDADevice)
	}
	return r, nil
}

// Tensor is a dense row-major tensor passed to or returned by [Session.Run]. Exactly one of
// Float32 and Int64 holds the data. Tensors are plain Go values: the ONNX Runtime values
// behind them are created and destroyed inside Run, so nothing can leak.
type Tensor struct {
	Shape   []int64
	Float32 []float32
	Int64   []int64
}

func (t Tensor) size() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Session is an ONNX Runtime inference session whose input and output names were checked
// against the model when it was opened. It is safe for concurrent use by several goroutines.
type Session struct {
	path    string
	inputs  []ort.InputOutputInfo
	outputs []ort.InputOutputInfo
	sess    *ort.DynamicAdvancedSession
}

// OpenSession loads the model at path, checks that it declares exactly the given input
// names and at least the given output names, and prepares a session that computes those
// outputs. It initialises the runtime with default [RuntimeOptions] if that was not done.
// A nil opts runs on the CPU with ONNX Runtime's default thread counts.
func OpenSession(path string, inputs, outputs []string, opts *SessionOptions) (*Session, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := InitRuntime(nil); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("embed: model %s: %w", path, err)
	}
	so, err := newSessionOptions(o)
	if err != nil {
		return nil, fmt.Errorf("embed: model %s: %w", path, err)
	}
	defer so.Destroy()
	ins, outs, err := ort.GetInputOutputInfoWithOptions(path, so)
	if err != nil {
		return nil, fmt.Errorf("embed: model %s: read inputs and outputs: %w", path, err)
	}
	if err := checkNames(path, "input", ins, inputs, true); err != nil {
		return nil, err
	}
	if err := checkNames(path, "output", outs, outputs, false); err != nil {
		return nil, err
	}
	s := &Session{path: path}
	for _, n := range inputs {
		s.inputs = append(s.inputs, ins[slices.IndexFunc(ins, func(i ort.InputOutputInfo) bool { return i.Name == n })])
	}
	for _, n := range outputs {
		s.outputs = append(s.outputs, outs[slices.IndexFunc(outs, func(i ort.InputOutputInfo) bool { return i.Name == n })])
	}
	s.sess, err = ort.NewDynamicAdvancedSession(path, inputs, outputs, so)
	if err != nil {
		return nil, fmt.Errorf("embed: model %s: create session: %w", path, err)
	}
	return s, nil
}

func newSessionOptions(opts SessionOptions) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*ort.SessionOptions, error) {
		so.Destroy()
		return nil, err
	}
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			return fail(fmt.Errorf("intra-op threads: %w", err))
		}
	}
	if opts.InterOpThreads > 0 {
		if err := so.SetInterOpNumThreads(opts.InterOpThreads); err != nil {
			return fail(fmt.Errorf("inter-op threads: %w", err))
		}
	}
	if opts.CUDA {
		cu, err := ort.NewCUDAProviderOptions()
		if err != nil {
			return fail(fmt.Errorf("cuda provider: %w", err))
		}
		defer cu.Destroy()
		if err := cu.Update(map[string]string{"device_id": fmt.Sprint(opts.CUDADevice)}); err != nil {
			return fail(fmt.Errorf("cuda provider: %w", err))
		}
		if err := so.AppendExecutionProviderCUDA(cu); err != nil {
			return fail(fmt.Errorf("cuda provider: %w", err))
		}
	}
	return so, nil
}

// checkNames reports names the model lacks (and, when exact, names it has beyond want).
func checkNames(path, kind string, have []ort.InputOutputInfo, want []string, exact bool) error {
	var names []string
	for _, h := range have {
		names = append(names, h.Name)
	}
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(names, w) {
			missing = append(missing, w)
		}
	}
	if exact {
		for _, n := range names {
			if !slices.Contains(want, n) {
				extra = append(extra, n)
			}
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	return fmt.Errorf("embed: model %s: %ss are [%s], want [%s]", path, kind,
		strings.Join(names, " "), strings.Join(want, " "))
}

// outputWidth returns the declared last dimension of a two-dimensional output, or 0 when
// it is dynamic or the output is not two-dimensional.
func (s *Session) outputWidth(name string) int {
	for _, o := range s.outputs {
		if o.Name == name && len(o.Dimensions) == 2 && o.Dimensions[1] > 0 {
			return int(o.Dimensions[1])
		}
	}
	return 0
}

// Path returns the model file the session was opened from.
func (s *Session) Path() string { return s.path }

// Close releases the session. It is safe to call more than once.
func (s *Session) Close() error {
	if s == nil || s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	s.sess = nil
	return err
}

// Run feeds one tensor per input name (in the order given to [OpenSession]) and returns one
// tensor per output name. Int64 inputs are converted when the model declares int32.
func (s *Session) Run(ctx context.Context, inputs ...Tensor) ([]Tensor, error) {
	if s == nil || s.sess == nil {
		return nil, errors.New("embed: run on a closed session")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(inputs) != len(s.inputs) {
		return nil, fmt.Errorf("embed: model %s: got %d inputs, want %d", s.path, len(inputs), len(s.inputs))
	}
	var owned []ort.Value
	defer func() {
		for _, v := range owned {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	in := make([]ort.Value, len(inputs))
	for i, t := range inputs {
		v, err := s.newValue(s.inputs[i], t)
		if err != nil {
			return nil, err
		}
		owned = append(owned, v)
		in[i] = v
	}
	out := make([]ort.Value, len(s.outputs))
	if err := s.sess.Run(in, out); err != nil {
		owned = append(owned, out...)
		return nil, fmt.Errorf("embed: model %s: run: %w", s.path, err)
	}
	owned = append(owned, out...)
	res := make([]Tensor, len(out))
	for i, v := range out {
		switch t := v.(type) {
		case *ort.Tensor[float32]:
			res[i] = Tensor{Shape: t.GetShape(), Float32: slices.Clone(t.GetData())}
		case *ort.Tensor[int64]:
			res[i] = Tensor{Shape: t.GetShape(), Int64: slices.Clone(t.GetData())}
		default:
			return nil, fmt.Errorf("embed: model %s: output %s has unsupported type %s",
				s.path, s.outputs[i].Name, s.outputs[i].DataType)
		}
	}
	return res, nil
}

func (s *Session) newValue(info ort.InputOutputInfo, t Tensor) (ort.Value, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("embed: model %s: input %s: %s", s.path, info.Name, fmt.Sprintf(format, args...))
	}
	n := t.size()
	if len(t.Shape) != len(info.Dimensions) {
		return nil, bad("rank %d, model wants shape %v", len(t.Shape), info.Dimensions)
	}
	for i, d := range info.Dimensions {
		if d > 0 && t.Shape[i] != d {
			return nil, bad("shape %v, model wants %v", t.Shape, info.Dimensions)
		}
	}
	shape := ort.NewShape(t.Shape...)
	switch info.DataType {
	case ort.TensorElementDataTypeFloat:
		if int64(len(t.Float32)) != n || t.Int64 != nil {
			return nil, bad("want %d float32 values for shape %v", n, t.Shape)
		}
		return ort.NewTensor(shape, t.Float32)
	case ort.TensorElementDataTypeInt64:
		if int64(len(t.Int64)) != n || t.Float32 != nil {
			return nil, bad("want %d int64 values for shape %v", n, t.Shape)
		}
		return ort.NewTensor(shape, t.Int64)
	case ort.TensorElementDataTypeInt32:
		if int64(len(t.Int64)) != n || t.Float32 != nil {
			return nil, bad("want %d integer values for shape %v", n, t.Shape)
		}
		d := make([]int32, n)
		for i, x := range t.Int64 {
			d[i] = int32(x)
		}
		return ort.NewTensor(shape, d)
	default:
		return nil, bad("unsupported element type %s", info.DataType)
	}
}
