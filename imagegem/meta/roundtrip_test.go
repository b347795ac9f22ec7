package meta

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tinyPNG(t testing.TB) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

func tinyJPEG(t testing.TB) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, nil))
	return b.Bytes()
}

var a1111Sample = &Generation{
	Format:         FormatA1111,
	Prompt:         "(masterpiece:1.2), a cat BREAK\n[red|blue] sky, <lora:catStyle_v2:0.7> <lyco:oldFilm:0.35>",
	NegativePrompt: "lowres, (bad hands:1.4)\nsecond line",
	Params: []Param{
		{"Steps", "30"}, {"Sampler", "DPM++ 2M"}, {"Schedule type", "Karras"}, {"CFG scale", "6.5"},
		{"Seed", "1234567890123"}, {"Size", "832x1216"}, {"Model hash", "45a21ea00a"}, {"Model", "sdxl_base"},
		{"Denoising strength", "0.35"}, {"Clip skip", "2"},
		{"Lora hashes", "catStyle_v2: 0123456789ab, oldFilm: ba9876543210"},
		{"TI hashes", "easynegative: c74b4e810b03"},
		{"Hashes", `{"model": "45a21ea00a", "lora:catStyle_v2": "0123456789"}`},
		{"Civitai resources", `[{"type":"lora","weight":0.7,"modelVersionId":1234}]`},
		{"ADetailer prompt", "a face, smiling"},
		{"Version", "v1.10.1"},
	},
}

func TestA1111RoundTrip(t *testing.T) {
	text := FormatA1111Text(a1111Sample)
	g, err := ParseA1111(text)
	require.NoError(t, err)
	assert.Equal(t, a1111Sample.Prompt, g.Prompt, "weighting, BREAK and tags kept")
	assert.Equal(t, a1111Sample.NegativePrompt, g.NegativePrompt)
	assert.Equal(t, a1111Sample.Params, g.Params, "every field, in order")
	assert.Equal(t, 30, g.Steps)
	assert.Equal(t, int64(1234567890123), g.Seed)
	assert.Equal(t, 6.5, g.CFGScale)
	assert.Equal(t, 832, g.Width)
	assert.Equal(t, 1216, g.Height)
	assert.Equal(t, 2, g.ClipSkip)
	assert.Equal(t, "v1.10.1", g.Software)
	assert.Equal(t, []LoRA{
		{Name: "catStyle_v2", Weight: 0.7, Hash: "0123456789ab"},
		{Name: "oldFilm", Weight: 0.35, Hash: "ba9876543210"},
	}, g.LoRAs)
	assert.Equal(t, []Resource{{Type: "embed", Name: "easynegative", Hash: "c74b4e810b03"}}, g.Embeddings)
	assert.Equal(t, []Resource{{Type: "lora", Weight: 0.7, ModelVersionID: 1234}}, g.Resources)
	again := FormatA1111Text(g)
	assert.Equal(t, text, again)
}

func TestContainersRoundTrip(t *testing.T) {
	text := FormatA1111Text(a1111Sample)
	for _, k := range []ChunkKind{ChunkIText, ChunkITextCompressed} {
		b, err := AddPNGText(tinyPNG(t), k, "parameters", text)
		require.NoError(t, err)
		_, err = png.Decode(bytes.NewReader(b))
		require.NoError(t, err, "still a PNG")
		m, err := ReadBytes(b, nil)
		require.NoError(t, err)
		require.NotNil(t, m.Generation)
		assert.Equal(t, a1111Sample.Params, m.Generation.Params)
		assert.Equal(t, text, m.Raw)
		assert.Equal(t, 4, m.Width)
		assert.Equal(t, 3, m.Height)
	}
	latin := "caf\u00e9 au lait\nSteps: 1, Sampler: Euler, Seed: 2"
	for _, k := range []ChunkKind{ChunkText, ChunkZText} {
		b, err := AddPNGText(tinyPNG(t), k, "parameters", latin)
		require.NoError(t, err)
		m, err := ReadBytes(b, nil)
		require.NoError(t, err)
		assert.Equal(t, latin, m.Raw, "Latin-1 decoded")
		assert.Equal(t, "café au lait", m.Generation.Prompt)
	}
	_, err := AddPNGText(tinyPNG(t), ChunkText, "parameters", "テスト")
	assert.Error(t, err, "tEXt is Latin-1")

	b, err := AddJPEGUserComment(tinyJPEG(t), text)
	require.NoError(t, err)
	_, err = jpeg.Decode(bytes.NewReader(b))
	require.NoError(t, err, "still a JPEG")
	m, err := ReadBytes(b, nil)
	require.NoError(t, err)
	require.NotNil(t, m.Generation)
	assert.Equal(t, text, m.Raw)
	assert.Equal(t, 8, m.Width)

	// The same EXIF in a PNG eXIf chunk.
	p := tinyPNG(t)
	end := 8 + 8 + 13 + 4
	p = append(appendChunk(append([]byte(nil), p[:end]...), "eXIf", UserCommentEXIF(text)), p[end:]...)
	m, err = ReadBytes(p, nil)
	require.NoError(t, err)
	require.NotNil(t, m.Generation)
	assert.Equal(t, text, m.Raw)
}

func TestUserCommentByteOrders(t *testing.T) {
	le := []byte("UNICODE\x00")
	for _, c := range "Steps: 1" {
		le = binary.LittleEndian.AppendUint16(le, uint16(c))
	}
	assert.Equal(t, "Steps: 1", userComment(le, binary.BigEndian), "LE text in an MM block")
	assert.Equal(t, "abc", userComment([]byte("ASCII\x00\x00\x00abc\x00"), binary.BigEndian))
	assert.Equal(t, "テスト", userComment(append([]byte("ASCII\x00\x00\x00"), "テスト"...), binary.BigEndian), "UTF-8 in ASCII")
	assert.Equal(t, "plain", userComment([]byte("plain text"[:5]), binary.BigEndian))
}

func TestStealthRoundTrip(t *testing.T) {
	const text = "a circle\nNegative prompt: a square\nSteps: 20, Sampler: Euler, Seed: 7"
	for _, alpha := range []bool{true, false} {
		img := image.NewNRGBA(image.Rect(0, 0, 40, 40))
		for i := range img.Pix {
			img.Pix[i] = 0xfe
		}
		sig := stealthAlphaText
		if !alpha {
			sig = stealthRGBText
		}
		var bits []uint8
		add := func(b []byte) {
			for _, c := range b {
				for k := 7; k >= 0; k-- {
					bits = append(bits, c>>k&1)
				}
			}
		}
		add([]byte(sig))
		add(binary.BigEndian.AppendUint32(nil, uint32(len(text)*8)))
		add([]byte(text))
		i := 0
		for x := 0; x < 40 && i < len(bits); x++ {
			for y := 0; y < 40 && i < len(bits); y++ {
				o := img.PixOffset(x, y)
				if alpha {
					img.Pix[o+3] |= bits[i]
					i++
					continue
				}
				for c := 0; c < 3 && i < len(bits); c++ {
					img.Pix[o+c] |= bits[i]
					i++
				}
			}
		}
		require.Equal(t, len(bits), i, "the picture holds the text")
		var b bytes.Buffer
		require.NoError(t, png.Encode(&b, img))
		m, err := ReadBytes(b.Bytes(), nil)
		require.NoError(t, err)
		require.NotNil(t, m.Generation, "alpha=%v", alpha)
		assert.Equal(t, "a circle", m.Generation.Prompt)
		assert.Equal(t, sig, m.Entries[len(m.Entries)-1].Key)
		off, err := ReadBytes(b.Bytes(), &Options{Stealth: StealthOff})
		require.NoError(t, err)
		assert.Nil(t, off.Generation, "no pixels decoded")
	}
}

func TestDecompressionBombRefused(t *testing.T) {
	// 64 MiB of zeros compress to about 64 KiB; the limit is 1 MiB.
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zero := make([]byte, 1<<20)
	for i := 0; i < 64; i++ {
		_, _ = w.Write(zero)
	}
	require.NoError(t, w.Close())
	data := append([]byte("parameters\x00\x00"), z.Bytes()...)
	p := tinyPNG(t)
	end := 8 + 8 + 13 + 4
	p = append(appendChunk(append([]byte(nil), p[:end]...), "zTXt", data), p[end:]...)
	_, err := ReadBytes(p, &Options{MaxTextBytes: 1 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "zTXt")

	// A chunk longer than the limit is refused before it is read.
	huge := append([]byte(nil), p[:end]...)
	huge = binary.BigEndian.AppendUint32(huge, 1<<30)
	huge = append(huge, "tEXt"...)
	_, err = ReadBytes(huge, &Options{MaxTextBytes: 1 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	huge = binary.BigEndian.AppendUint32(huge[:end], 1<<23)
	huge = append(huge, "tEXt"...)
	_, err = ReadBytes(huge, nil)
	require.ErrorIs(t, err, ErrMalformed, "under the limit but past the end of the file")
}

func TestHugeEXIFCountRefused(t *testing.T) {
	tiff := UserCommentEXIF("Steps: 1, Sampler: a, Seed: 1")
	// The UserComment's count is at IFD entry offset +4 of the Exif IFD (at 26).
	bad := append([]byte(nil), tiff...)
	binary.BigEndian.PutUint32(bad[26+2+4:], 0xFFFFFFFF)
	_, err := readTIFF(bad, 0, DefaultMaxTextBytes)
	require.ErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), "UserComment")
	// An IFD whose entry count runs past the block.
	bad = append([]byte(nil), tiff...)
	binary.BigEndian.PutUint16(bad[8:], 0xFFFF)
	_, err = readTIFF(bad, 0, DefaultMaxTextBytes)
	require.ErrorIs(t, err, ErrMalformed)
}

func TestOptionsValidated(t *testing.T) {
	_, err := ReadBytes(tinyPNG(t), &Options{MaxTextBytes: -1})
	require.ErrorIs(t, err, ErrInvalidOptions)
	assert.Contains(t, err.Error(), "Options.MaxTextBytes")
	_, err = ReadBytes(tinyPNG(t), &Options{Stealth: 9})
	require.ErrorIs(t, err, ErrInvalidOptions)
}

func TestUnknownFormatsGiveTheRawText(t *testing.T) {
	b, err := AddPNGText(tinyPNG(t), ChunkText, "Description", "just a note")
	require.NoError(t, err)
	m, err := ReadBytes(b, nil)
	require.NoError(t, err)
	assert.Nil(t, m.Generation)
	assert.Equal(t, "just a note", m.Raw)
	_, err = ReadBytes([]byte("GIF89a"), nil)
	require.ErrorIs(t, err, ErrUnsupported)
}

func TestComfyUIGraphFollowedNotOrdered(t *testing.T) {
	// The same graph with ids renamed and a decoy text encoder that feeds nothing.
	g := `{"z": {"class_type": "SaveImage", "inputs": {"images": ["y", 0]}},
	"y": {"class_type": "VAEDecode", "inputs": {"samples": ["k", 0], "vae": ["ck", 2]}},
	"decoy": {"class_type": "CLIPTextEncode", "inputs": {"text": "not me", "clip": ["ck", 1]}},
	"k": {"class_type": "KSampler", "inputs": {"seed": ["s", 0], "steps": 12, "cfg": 3.5, "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1.0,
		"model": ["l2", 0], "positive": ["p", 0], "negative": ["n", 0], "latent_image": ["e", 0]}},
	"s": {"class_type": "PrimitiveInt", "inputs": {"value": 99}},
	"p": {"class_type": "CLIPTextEncode", "inputs": {"text": "a (red:1.1) fox BREAK snow", "clip": ["l2", 1]}},
	"n": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["l2", 1]}},
	"l2": {"class_type": "LoraLoader", "inputs": {"lora_name": "b.safetensors", "strength_model": 0.5, "strength_clip": 0.5, "model": ["l1", 0], "clip": ["l1", 1]}},
	"l1": {"class_type": "LoraLoader", "inputs": {"lora_name": "a.safetensors", "strength_model": 0.8, "strength_clip": 1, "model": ["ck", 0], "clip": ["ck", 1]}},
	"ck": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "dream.safetensors"}},
	"e": {"class_type": "EmptyLatentImage", "inputs": {"width": 640, "height": 960, "batch_size": 1}}}`
	gen, err := ParseComfyUI(g)
	require.NoError(t, err)
	assert.Equal(t, "a (red:1.1) fox BREAK snow", gen.Prompt)
	assert.Equal(t, "blurry", gen.NegativePrompt)
	assert.Equal(t, int64(99), gen.Seed)
	assert.Equal(t, 12, gen.Steps)
	assert.Equal(t, "dream.safetensors", gen.Model)
	assert.Equal(t, []LoRA{{Name: "a", Weight: 0.8}, {Name: "b", Weight: 0.5}}, gen.LoRAs)
	assert.Equal(t, 640, gen.Width)
	assert.Equal(t, 960, gen.Height)

	_, err = ParseComfyUI(`{"1": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "latent_image": ["1", 0], "positive": ["1", 0]}}}`)
	require.NoError(t, err, "a cycle ends")
	_, err = ParseComfyUI(`{"1": {"inputs": {}}}`)
	require.ErrorIs(t, err, ErrSyntax)
	_, err = ParseComfyUI(strings.Repeat("[", 10))
	require.ErrorIs(t, err, ErrSyntax)
}

func TestNovelAIVersions(t *testing.T) {
	v3 := `{"prompt": "1girl, {{best quality}}", "uc": "lowres", "steps": 28, "width": 832, "height": 1216, "scale": 5, "seed": 42, "sampler": "k_euler"}`
	g, err := ParseNovelAI(v3)
	require.NoError(t, err)
	assert.Equal(t, "1girl, {{best quality}}", g.Prompt)
	assert.Equal(t, "lowres", g.NegativePrompt)
	v4 := `{"prompt": "old", "uc": "old uc", "v4_prompt": {"caption": {"base_caption": "2girls", "char_captions": [{"char_caption": "girl, red hair", "centers": [{"x": 0.3, "y": 0.5}]}, {"char_caption": "girl, blue hair"}]}},
	"v4_negative_prompt": {"caption": {"base_caption": "bad", "char_captions": []}}, "steps": 23, "seed": 1}`
	g, err = ParseNovelAI(v4)
	require.NoError(t, err)
	assert.Equal(t, "2girls\ngirl, red hair\ngirl, blue hair", g.Prompt)
	assert.Equal(t, "bad", g.NegativePrompt)
}
