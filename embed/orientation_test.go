package embed

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApplyOrientation checks every EXIF orientation on a 3×2 grey picture against the
// PIL transposition exif_transpose uses (2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4
// FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90).
//
//	1 2 3
//	4 5 6
func TestApplyOrientation(t *testing.T) {
	src := &picture{mode: modeL, w: 3, h: 2, pix: []uint8{1, 2, 3, 4, 5, 6}}
	want := map[int]struct {
		w, h int
		pix  []uint8
	}{
		1: {3, 2, []uint8{1, 2, 3, 4, 5, 6}},
		2: {3, 2, []uint8{3, 2, 1, 6, 5, 4}},
		3: {3, 2, []uint8{6, 5, 4, 3, 2, 1}},
		4: {3, 2, []uint8{4, 5, 6, 1, 2, 3}},
		5: {2, 3, []uint8{1, 4, 2, 5, 3, 6}},
		6: {2, 3, []uint8{4, 1, 5, 2, 6, 3}},
		7: {2, 3, []uint8{6, 3, 5, 2, 4, 1}},
		8: {2, 3, []uint8{3, 6, 2, 5, 1, 4}},
	}
	for o, w := range want {
		got := applyOrientation(src, o)
		assert.Equal(t, w.w, got.w, "orientation %d", o)
		assert.Equal(t, w.h, got.h, "orientation %d", o)
		assert.Equal(t, w.pix, got.pix, "orientation %d", o)
	}
}

// tiffWithOrientation is a little-endian TIFF block with one IFD0 entry.
func tiffWithOrientation(o uint16) []byte {
	b := []byte("II*\x00\x08\x00\x00\x00\x01\x00")
	e := make([]byte, 12)
	binary.LittleEndian.PutUint16(e, 0x0112)
	binary.LittleEndian.PutUint16(e[2:], 3)
	binary.LittleEndian.PutUint32(e[4:], 1)
	binary.LittleEndian.PutUint16(e[8:], o)
	return append(append(b, e...), 0, 0, 0, 0)
}

func TestPNGOrientation(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(img.Pix, []uint8{1, 2, 3, 4, 5, 6})
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	raw := buf.Bytes()
	// Insert an eXIf chunk after IHDR (8-byte signature + 25-byte IHDR chunk).
	payload := tiffWithOrientation(6)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	chunk = append(chunk, "eXIf"...)
	chunk = append(chunk, payload...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	data := append(append(append([]byte{}, raw[:33]...), chunk...), raw[33:]...)
	assert.Equal(t, 6, pngOrientation(data))
	p, err := decodePicture(data, 0, true)
	require.NoError(t, err)
	assert.Equal(t, []uint8{4, 1, 5, 2, 6, 3}, p.pix)
	p, err = decodePicture(data, 0, false)
	require.NoError(t, err)
	assert.Equal(t, []uint8{1, 2, 3, 4, 5, 6}, p.pix)

	webp := []byte("RIFF\x00\x00\x00\x00WEBP")
	webp = append(webp, "EXIF"...)
	exif := append([]byte("Exif\x00\x00"), tiffWithOrientation(8)...)
	webp = binary.LittleEndian.AppendUint32(webp, uint32(len(exif)))
	webp = append(webp, exif...)
	assert.Equal(t, 8, webpOrientation(webp))
	assert.Equal(t, 1, webpOrientation([]byte("RIFF")))
	assert.Equal(t, 1, pngOrientation(raw))
}
