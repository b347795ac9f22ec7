package recsys

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadSASRec(t *testing.T) {
	in, err := ReadInteractions(strings.NewReader("1 10\n1 11\n2 10\n\n1 12\n"), "x.txt", FormatSASRec)
	require.NoError(t, err)
	assert.Equal(t, 2, in.NumUsers())
	assert.Equal(t, 3, in.NumItems())
	assert.Equal(t, [][]int32{{0, 1, 2}, {0}}, in.Seqs)
	assert.Equal(t, "12", in.Items.ID(2))
	assert.Equal(t, 4, in.NumInteractions())
}

func TestReadSASRecMalformedLine(t *testing.T) {
	_, err := ReadInteractions(strings.NewReader("1 10\n1 11 5\n"), "bad.txt", FormatSASRec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.txt line 2")
	assert.True(t, strings.HasPrefix(err.Error(), "recsys: "))
}

func TestReadEmpty(t *testing.T) {
	for _, f := range []Format{FormatSASRec, FormatRecBole} {
		_, err := ReadInteractions(strings.NewReader(""), "empty", f)
		assert.True(t, errors.Is(err, ErrEmpty), "%s: %v", f, err)
	}
	_, err := ReadInteractions(strings.NewReader("user_id:token\titem_id:token\n"), "h.inter", FormatRecBole)
	assert.True(t, errors.Is(err, ErrEmpty))
	_, err = ReadInteractions(strings.NewReader("a b\n"), "x", Format("csv"))
	assert.Error(t, err)
}

func TestReadRecBoleOrdersByTime(t *testing.T) {
	src := "user_id:token\titem_id:token\ttimestamp:float\n" +
		"u1\ti3\t30\nu1\ti1\t10\nu2\ti1\t5\nu1\ti2\t20\nu1\ti4\t20\n"
	in, err := ReadInteractions(strings.NewReader(src), "a.inter", FormatRecBole)
	require.NoError(t, err)
	// items by first appearance: i3=0 i1=1 i2=2 i4=3; u1 ordered by time, ties in file order.
	assert.Equal(t, [][]int32{{1, 2, 3, 0}, {1}}, in.Seqs)
}

func TestReadRecBoleErrors(t *testing.T) {
	cases := map[string]string{
		"no item column": "user_id:token\tx:token\nu\ti\n",
		"line 3":         "user_id:token\titem_id:token\nu\ti\nu\n",
		"timestamp":      "user_id:token\titem_id:token\ttimestamp:float\nu\ti\tnope\n",
		"empty user_id":  "user_id:token\titem_id:token\n\ti\n",
	}
	for want, src := range cases {
		_, err := ReadInteractions(strings.NewReader(src), "f.inter", FormatRecBole)
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), "f.inter", want)
		if want == "line 3" || want == "timestamp" {
			assert.Contains(t, err.Error(), want)
		}
	}
}

func TestNewInteractionsRejectsBadItems(t *testing.T) {
	_, err := NewInteractions([][]int32{{0, 5}}, 3)
	assert.ErrorContains(t, err, "user 0 position 1")
	_, err = NewInteractions(nil, 3)
	assert.ErrorIs(t, err, ErrEmpty)
}

func FuzzRead(f *testing.F) {
	f.Add("1 2\n1 3\n", false)
	f.Add("user_id:token\titem_id:token\ttimestamp:float\na\tb\t1\n", true)
	f.Fuzz(func(t *testing.T, src string, recbole bool) {
		fm := FormatSASRec
		if recbole {
			fm = FormatRecBole
		}
		in, err := ReadInteractions(strings.NewReader(src), "fuzz", fm)
		if err != nil {
			return
		}
		for _, s := range in.Seqs {
			for _, it := range s {
				if it < 0 || int(it) >= in.NumItems() {
					t.Fatalf("item %d out of range", it)
				}
			}
		}
		if s, err := LeaveOneLast(in); err == nil {
			_ = s.NumUsers()
		}
	})
}
