# imagegem-go: build, test and benchmark targets.
#   make test   fetch ONNX Runtime and install libopenblas-dev if missing, gofmt check, go vet,
#               staticcheck, go test -race (and again for w2w with -tags openblas)
#   make bench  run the benchmarks (see BENCHMARKS.md for the recorded results)
#   make interop  load the LoRA files w2w writes with diffusers, peft and lycoris-lora
#               (scripts/interop: a pinned venv under .cache/, SD1.5 built from its config)

GO          ?= go
STATICCHECK_VERSION := v0.8.2
BIN         := $(CURDIR)/bin
ORT_LIB     := $(CURDIR)/third_party/onnxruntime/linux-x64/libonnxruntime.so.1
TEST_FLAGS  ?= -race -timeout 45m
PKGS        := ./...
BENCH       ?= .
BENCH_FLAGS ?= -run '^$$' -benchmem -benchtime 1x -timeout 60m

export IMAGEGEM_ONNXRUNTIME_LIB ?= $(ORT_LIB)

.PHONY: interop
.PHONY: all build test fmt-check vet staticcheck unit unit-openblas bench onnxruntime openblas tools clean cuda-toolkit cuda-ptx cuda-build

all: build

build:
	$(GO) build ./...

onnxruntime: $(ORT_LIB)

$(ORT_LIB): scripts/onnxruntime.sh
	bash scripts/onnxruntime.sh

# The w2w OpenBLAS backend (build tag openblas) needs Debian's libopenblas-dev.
openblas:
	bash scripts/openblas.sh

tools: $(BIN)/staticcheck

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck: tools
	$(BIN)/staticcheck $(PKGS)

unit: onnxruntime
	$(GO) test $(TEST_FLAGS) $(PKGS)

# The OpenBLAS build of w2w: vet, staticcheck and tests with the tag.
unit-openblas: openblas tools
	$(GO) vet -tags openblas ./w2w/...
	$(BIN)/staticcheck -tags openblas ./w2w/...
	$(GO) test $(TEST_FLAGS) -tags openblas ./w2w/...

test: onnxruntime tools fmt-check vet staticcheck unit unit-openblas

bench: onnxruntime
	$(GO) test $(BENCH_FLAGS) -bench '$(BENCH)' ./...

# The cuda package (build tag cuda). cuda-build needs the CUDA headers and libraries
# (make cuda-toolkit: Debian's CUDA 11.8, about 800 MB) but no GPU; running the tests needs one.
cuda-toolkit:
	bash scripts/cuda-toolkit.sh

cuda-ptx:
	$(GO) generate ./cuda

cuda-build:
	$(GO) vet -tags cuda ./cuda/... ./w2w/...
	$(BIN)/staticcheck -tags cuda ./cuda/... ./w2w/...
	$(GO) test -tags cuda -c -o $(BIN)/cuda.test ./cuda
	$(GO) build -tags cuda ./...

interop:
	bash scripts/interop/run.sh

clean:
	rm -rf $(BIN)
