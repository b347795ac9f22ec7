package embed

import (
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAnimatedWebPFirstFrame compares the first frame of animated WebPs whose first frame is
// a sub-rectangle at an offset (with partial alpha, an ALPH chunk, blending off, and on a
// canvas without alpha) with what Pillow shows for them (scripts/gen_webp_anim.py). Pixels
// outside the frame are transparent black; lossless frames match exactly; lossy frames
// within the parity limits of the still-image tests (the two VP8 decoders round YUV
// differently by 1-2 levels) with alpha exact.
func TestAnimatedWebPFirstFrame(t *testing.T) {
	dir := filepath.Join("testdata", "webpanim")
	var meta struct {
		Cases map[string]struct {
			Mode string `json:"mode"`
			Size []int  `json:"size"`
		} `json:"cases"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "goldens.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &meta))
	require.Len(t, meta.Cases, 3)
	for name, c := range meta.Cases {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name+".webp"))
			require.NoError(t, err)
			require.True(t, isAnimatedWebP(data))
			got, err := decodePicture(data, 0, true)
			require.NoError(t, err)
			assert.Equal(t, c.Mode, got.mode.String())
			require.Equal(t, c.Size, []int{got.w, got.h})
			fh, err := os.Open(filepath.Join(dir, name+".png"))
			require.NoError(t, err)
			defer fh.Close()
			img, err := png.Decode(fh)
			require.NoError(t, err)
			want := fromImage(img, "png")
			if c.Mode == "RGBA" {
				// An opaque golden PNG opens as RGB in Go; compare in the frame's mode.
				require.Equal(t, modeRGBA, want.mode, "golden %s", name)
			}
			lossless := strings.HasPrefix(name, "lossless")
			ch := got.mode.channels()
			var sum, worst float64
			count := 0
			for i := 0; i < got.w*got.h; i++ {
				for k := 0; k < ch; k++ {
					g, w := float64(got.pix[i*ch+k]), float64(want.pix[i*ch+k])
					if lossless || k == 3 {
						require.Equal(t, w, g, "pixel %d channel %d", i, k)
						continue
					}
					d := math.Abs(g - w)
					sum += d
					worst = max(worst, d)
					count++
				}
			}
			if count > 0 {
				assert.LessOrEqual(t, sum/float64(count), parityMeanLimit, "mean difference")
				assert.LessOrEqual(t, worst, float64(parityMaxLimit), "max difference")
			}
		})
	}
}

// TestAnimatedWebPBadInput: damaged animated WebPs are errors naming the chunk's offset,
// never a panic.
func TestAnimatedWebPBadInput(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "webpanim", "lossy_offset_alph_80x60.webp"))
	require.NoError(t, err)
	anmf := strings.Index(string(data), "ANMF")
	require.Positive(t, anmf)
	cases := map[string][]byte{
		"truncated in the frame": data[:anmf+40],
		"no frame":               data[:anmf],
	}
	// A frame that leaves the canvas: x offset 60 on an 80-wide canvas for a 40-wide frame.
	off := append([]byte(nil), data...)
	off[anmf+8] = 30
	cases["frame outside the canvas"] = off
	// A frame whose header size disagrees with its bitstream.
	size := append([]byte(nil), data...)
	size[anmf+8+6] = 9
	cases["frame size disagrees with the bitstream"] = size
	for name, d := range cases {
		_, err := decodePicture(d, 0, false)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "animated webp: offset", name)
	}
	// The canvas is bounded before any pixel is decoded.
	_, err = decodePicture(data, 100, false)
	assert.ErrorIs(t, err, ErrTooLarge)
}

// FuzzAnimatedWebP: any bytes after an animated VP8X header decode or fail, never panic.
func FuzzAnimatedWebP(f *testing.F) {
	for _, name := range []string{"lossless_offset_alpha_64x48", "lossy_offset_alph_80x60", "lossy_offset_rgb_50x40"} {
		data, err := os.ReadFile(filepath.Join("testdata", "webpanim", name+".webp"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !isAnimatedWebP(data) {
			return
		}
		p, err := decodePicture(data, 1<<16, false)
		if err == nil && len(p.pix) != p.w*p.h*p.mode.channels() {
			t.Fatalf("picture %dx%d mode %s with %d bytes", p.w, p.h, p.mode, len(p.pix))
		}
	})
}
