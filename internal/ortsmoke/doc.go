// Package ortsmoke holds only a test: it loads the ONNX Runtime shared library fetched by
// scripts/onnxruntime.sh through onnxruntime_go and runs a three-node model, so that every
// test run proves the runtime really loads and computes on this machine.
package ortsmoke
