//go:build cuda

package cuda

import (
	_ "embed"
	"fmt"
	"sync"
	"unsafe"

	"gorgonia.org/cu"
	cublas "gorgonia.org/cu/blas"
)

//go:embed kernels/rank1.ptx
var rank1PTX string

// device is the process's CUDA context, module and cuBLAS handle. All work runs through
// ctx.Do on the OS thread that holds the context.
type device struct {
	ctx                           *cu.Ctx
	mod                           cu.Module
	topTriplet, scatter, addToF64 cu.Function
	blas                          *cublas.Standard
	name                          string
	stage                         *stager // created on first use
}

// staging returns the device's staging buffers, creating them on first use; it must run on
// the context's thread.
func (d *device) staging() (*stager, error) {
	if d.stage == nil {
		s, err := newStager()
		if err != nil {
			return nil, err
		}
		d.stage = s
	}
	return d.stage, nil
}

var (
	devOnce sync.Once
	dev     *device
	devErr  error
)

// getDevice opens device 0 once for the process.
func getDevice() (*device, error) {
	devOnce.Do(func() { dev, devErr = openDevice() })
	return dev, devErr
}

func openDevice() (d *device, err error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: no CUDA device", ErrUnavailable)
	}
	defer func() {
		// gorgonia.org/cu panics when a context or cuBLAS handle cannot be created.
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("%w: %v", ErrUnavailable, r)
		}
	}()
	d = &device{ctx: cu.NewContext(cu.Device(0), cu.SchedAuto)}
	d.name, _ = cu.Device(0).Name()
	err = d.ctx.Do(func() error {
		mod, err := cu.LoadData(rank1PTX)
		if err != nil {
			return fmt.Errorf("load PTX: %w", err)
		}
		d.mod = mod
		for _, f := range []struct {
			name string
			fn   *cu.Function
		}{{"top_triplet", &d.topTriplet}, {"scatter_rank1", &d.scatter}, {"add_f32_to_f64", &d.addToF64}} {
			if *f.fn, err = mod.Function(f.name); err != nil {
				return fmt.Errorf("kernel %s: %w", f.name, err)
			}
		}
		d.blas = cublas.New()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return d, nil
}

// Available reports whether a CUDA device can be used, with its name in the error's stead.
func Available() error {
	_, err := getDevice()
	return err
}

// DeviceName returns the name of the device in use.
func DeviceName() (string, error) {
	d, err := getDevice()
	if err != nil {
		return "", err
	}
	return d.name, nil
}

// buffers tracks device allocations made inside one ctx.Do and frees them together.
type buffers struct{ ptrs []cu.DevicePtr }

func (b *buffers) alloc(bytes int64) (cu.DevicePtr, error) {
	if bytes <= 0 {
		bytes = 8
	}
	p, err := cu.MemAlloc(bytes)
	if err != nil {
		return 0, fmt.Errorf("cuda: allocate %d bytes: %w", bytes, err)
	}
	b.ptrs = append(b.ptrs, p)
	return p, nil
}

func (b *buffers) free() {
	for _, p := range b.ptrs {
		cu.MemFree(p)
	}
	b.ptrs = nil
}

// upload allocates device memory for a slice and copies it there.
func upload[T any](b *buffers, s []T) (cu.DevicePtr, error) {
	var zero T
	bytes := int64(len(s)) * int64(unsafe.Sizeof(zero))
	p, err := b.alloc(bytes)
	if err != nil || len(s) == 0 {
		return p, err
	}
	if err := cu.MemcpyHtoD(p, unsafe.Pointer(&s[0]), bytes); err != nil {
		return 0, fmt.Errorf("cuda: copy to device: %w", err)
	}
	return p, nil
}

// download copies device memory into a slice.
func download[T any](s []T, p cu.DevicePtr) error {
	if len(s) == 0 {
		return nil
	}
	var zero T
	if err := cu.MemcpyDtoH(unsafe.Pointer(&s[0]), p, int64(len(s))*int64(unsafe.Sizeof(zero))); err != nil {
		return fmt.Errorf("cuda: copy from device: %w", err)
	}
	return nil
}

// deviceSlice views n float32 values of device memory as a Go slice header for cuBLAS calls
// (which take the address of the first element); it is never read or written from Go.
func deviceSlice(p cu.DevicePtr, n int) []float32 {
	return unsafe.Slice(*(**float32)(unsafe.Pointer(&p)), n)
}

// params builds the kernel parameter list: pointers to each argument value. Integer
// arguments are passed as int64 values whose low four bytes the kernel reads as int.
func params(args ...any) []unsafe.Pointer {
	out := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case cu.DevicePtr:
			x := v
			out[i] = unsafe.Pointer(&x)
		case int:
			x := int64(v)
			out[i] = unsafe.Pointer(&x)
		case int64:
			x := v
			out[i] = unsafe.Pointer(&x)
		case float64:
			x := v
			out[i] = unsafe.Pointer(&x)
		default:
			panic(fmt.Sprintf("cuda: kernel parameter of type %T", a))
		}
	}
	return out
}
