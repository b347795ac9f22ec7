package cuda

//go:generate bash ../scripts/cuda-ptx.sh
