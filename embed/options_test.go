package embed

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptionsResolve is the table of every option field's out-of-range values, refused
// with ErrInvalidOptions before anything is loaded, and of the zero values, which are the
// defaults.
func TestOptionsResolve(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"both towers off", Options{TextOnly: true, ImageOnly: true}, "TextOnly: TextOnly and ImageOnly are both set"},
		{"BatchSize", Options{BatchSize: -1}, "BatchSize: -1 is negative"},
		{"LogitScale negative", Options{LogitScale: -3}, "LogitScale: -3"},
		{"LogitScale NaN", Options{LogitScale: math.NaN()}, "LogitScale: NaN"},
		{"LogitScale Inf", Options{LogitScale: math.Inf(1)}, "LogitScale: +Inf"},
		{"IntraOpThreads", Options{Session: SessionOptions{IntraOpThreads: -1}}, "Session.IntraOpThreads: -1 is negative"},
		{"InterOpThreads", Options{Session: SessionOptions{InterOpThreads: -2}}, "Session.InterOpThreads: -2 is negative"},
		{"CUDADevice negative", Options{Session: SessionOptions{CUDA: true, CUDADevice: -1}}, "Session.CUDADevice: -1 is negative"},
		{"CUDADevice without CUDA", Options{Session: SessionOptions{CUDADevice: 1}}, "Session.CUDADevice: 1 is set without CUDA"},
		{"Transform", Options{Preprocessor: Preprocessor{Transform: Transform(5)}}, "Preprocessor.Transform: Transform(5) is not a transform"},
		{"Size", Options{Preprocessor: Preprocessor{Size: -224}}, "Preprocessor.Size: -224 is negative"},
		{"Mean", Options{Preprocessor: Preprocessor{Mean: [3]float32{0, nan, 0}}}, "Preprocessor.Mean: channel 1 is NaN"},
		{"Std zero channel", Options{Preprocessor: Preprocessor{Std: [3]float32{0.2, 0, 0.2}}}, "Preprocessor.Std: channel 1 is 0"},
		{"Std negative", Options{Preprocessor: Preprocessor{Std: [3]float32{-0.2, 0.2, 0.2}}}, "Preprocessor.Std: channel 0 is -0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.resolve()
			assert.ErrorIs(t, err, ErrInvalidOptions)
			assert.ErrorContains(t, err, "embed: invalid options: "+tc.want)
			// Open refuses it before reading the folder (which does not exist here).
			_, err = Open(context.Background(), filepath.Join(t.TempDir(), "none"), &tc.opts)
			assert.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	for _, o := range []*Options{nil, {}} {
		r, err := o.resolve()
		require.NoError(t, err)
		assert.Equal(t, DefaultBatchSize, r.BatchSize)
		assert.Zero(t, r.LogitScale) // read from the folder at Open
		assert.Equal(t, SessionOptions{}, r.Session)
	}
	o := &Options{}
	_, err := o.resolve()
	require.NoError(t, err)
	assert.Equal(t, &Options{}, o, "resolve must not modify the caller's options")

	p, err := Preprocessor{}.resolve()
	require.NoError(t, err)
	assert.Equal(t, Preprocessor{Size: CLIPImageSize, Mean: CLIPMean, Std: CLIPStd}, p)
	assert.Equal(t, 3*CLIPImageSize*CLIPImageSize, Preprocessor{}.TensorLen())
	assert.Zero(t, Preprocessor{Size: -1}.TensorLen())
	err = Preprocessor{Size: -1}.Pixels(nil, nil)
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = Preprocessor{Transform: -1}.RGB(nil)
	assert.ErrorIs(t, err, ErrInvalidOptions)

	s, err := (*SessionOptions)(nil).resolve()
	require.NoError(t, err)
	assert.Equal(t, SessionOptions{}, s)
	_, err = OpenSession("model.onnx", nil, nil, &SessionOptions{IntraOpThreads: -1})
	assert.ErrorIs(t, err, ErrInvalidOptions)
	assert.Equal(t, ScoreOptions{}, (*ScoreOptions)(nil).resolve())
	assert.Equal(t, RuntimeOptions{}, (*RuntimeOptions)(nil).resolve())
}

// TestTokenizerOptionsResolve is the table of the tokenizer options.
func TestTokenizerOptionsResolve(t *testing.T) {
	for _, n := range []int{-1, 1} {
		_, err := (&WordPieceOptions{MaxLength: n}).resolve()
		assert.ErrorIs(t, err, ErrInvalidOptions)
		assert.ErrorContains(t, err, "embed: invalid options: MaxLength: ")
		_, err = LoadWordPiece("vocab.txt", &WordPieceOptions{MaxLength: n})
		assert.ErrorIs(t, err, ErrInvalidOptions)
		_, err = (&ByteBPEOptions{MaxLength: n}).resolve()
		assert.ErrorIs(t, err, ErrInvalidOptions)
		_, err = LoadByteBPE("vocab.json", "merges.txt", &ByteBPEOptions{MaxLength: n})
		assert.ErrorIs(t, err, ErrInvalidOptions)
	}
	for _, o := range []*WordPieceOptions{nil, {}} {
		r, err := o.resolve()
		require.NoError(t, err)
		assert.Equal(t, WordPieceOptions{MaxLength: DefaultMaxLength}, r)
	}
	for _, o := range []*ByteBPEOptions{nil, {}} {
		r, err := o.resolve()
		require.NoError(t, err)
		assert.Equal(t, ByteBPEOptions{MaxLength: DefaultMaxLength, BOS: "<s>", EOS: "</s>"}, r)
	}
	r, err := (&ByteBPEOptions{MaxLength: 2, BOS: "<a>", EOS: "<b>"}).resolve()
	require.NoError(t, err)
	assert.Equal(t, ByteBPEOptions{MaxLength: 2, BOS: "<a>", EOS: "<b>"}, r)
}

// TestEncodeCancelled stops the encoders between batches, and Open before loading.
func TestEncodeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Open(ctx, tinyDir, nil)
	assert.ErrorIs(t, err, context.Canceled)

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	batches := 0
	m := openTiny(t, &Options{BatchSize: 2, Progress: func(p Progress) {
		batches++
		cancel()
	}})
	texts := strings.Split(strings.Repeat("a photo of a cat,", 10), ",")
	_, err = m.EncodeText(ctx, texts)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, batches)
	_, err = m.EncodeText(ctx, texts)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, batches)
}

// TestCLIPTokenizerIsATokenizer checks that CLIPTokenizer's Encode gives the ids the text
// tower reads: Tokenize's without the padding.
func TestCLIPTokenizerIsATokenizer(t *testing.T) {
	tok, err := LoadCLIPTokenizer(filepath.Join(tinyDir, "bpe_simple_vocab_16e6.txt.gz"))
	require.NoError(t, err)
	var tk Tokenizer = tok
	ids := tk.Encode("a photo of a cat")
	assert.Equal(t, []int64{StartToken, 320, 1125, 539, 320, 2368, EndToken}, ids)
	assert.Equal(t, tok.Tokenize("a photo of a cat")[:len(ids)], ids)
	long := tk.Encode(strings.Repeat("cat ", 100))
	assert.Len(t, long, ContextLength)
	assert.Equal(t, int64(EndToken), long[ContextLength-1])
	assert.Equal(t, []int64{StartToken, EndToken}, tk.Encode(""))
}
