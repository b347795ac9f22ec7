// Package cuda runs the LoRA SVD, flattening and PCA of package w2w on an NVIDIA GPU through
// gorgonia.org/cu. It is built only with the build tag cuda; without it every call returns
// ErrUnavailable, because gorgonia.org/cu exits the process at start-up when no GPU is
// present and so no file without the tag may import it.
package cuda
