package fileerr

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNewNamesFileTensorAndOffset(t *testing.T) {
	base := errors.New("truncated file")
	err := New("w2w", "a.safetensors", "x.lora_up.weight", 120, base, "%d bytes missing", 8)
	assert.Equal(t, `w2w: a.safetensors: tensor "x.lora_up.weight" at offset 120: 8 bytes missing: truncated file`, err.Error())
	assert.ErrorIs(t, err, base)
	assert.Equal(t, "safetensors: <memory>: truncated file", New("safetensors", "", "", -1, base, "").Error())
}
