package imagegem

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func at(min int) time.Time { return time.Date(2024, 4, 1, 12, min, 0, 0, time.UTC) }

func TestUserModelInteractionsKeepLastTimeAndDropSmallUsers(t *testing.T) {
	r := openFixture(t)
	ctx := context.Background()
	got, err := r.Interactions(ctx, UserModel, nil)
	require.NoError(t, err)
	// Only u4 has 3 distinct versions: 100 (images 11 at :01 and 12 at :03, last :03), 101, 102.
	assert.Equal(t, []Interaction{
		{"u4", 100, at(3)}, {"u4", 101, at(3)}, {"u4", 102, at(3)},
	}, got)

	got, err = r.Interactions(ctx, UserModel, &InteractionOptions{MinPerUser: 2})
	require.NoError(t, err)
	assert.Equal(t, []Interaction{
		{"u1", 100, at(5)}, {"u1", 101, at(5)},
		{"u4", 100, at(3)}, {"u4", 101, at(3)}, {"u4", 102, at(3)},
		{"u5", 103, at(6)}, {"u5", 999, at(6)},
	}, got)
}

func TestUserImageInteractions(t *testing.T) {
	r := openFixture(t)
	got, err := r.Interactions(context.Background(), UserImage, &InteractionOptions{MinPerUser: 1})
	require.NoError(t, err)
	assert.Equal(t, []Interaction{
		{"u1", 10, at(5)}, {"u2", 14, at(4)}, {"u4", 11, at(1)}, {"u4", 12, at(3)},
		{"u5", 13, at(2)}, {"u5", 15, at(6)},
	}, got)
}

func TestSplitLeaveOneLast(t *testing.T) {
	in := []Interaction{
		{"b", 7, at(9)}, {"a", 1, at(1)}, {"a", 3, at(3)}, {"a", 2, at(2)}, {"a", 4, at(4)},
		{"b", 5, at(1)}, {"c", 9, at(1)}, {"b", 6, at(1)},
	}
	s := SplitLeaveOneLast(in)
	assert.Equal(t, []Interaction{{"a", 1, at(1)}, {"a", 2, at(2)}, {"b", 5, at(1)}, {"c", 9, at(1)}}, s.Train)
	assert.Equal(t, []Interaction{{"a", 3, at(3)}, {"b", 6, at(1)}}, s.Valid, "ties in time broken by item")
	assert.Equal(t, []Interaction{{"a", 4, at(4)}, {"b", 7, at(9)}}, s.Test)
	assert.Equal(t, Interaction{"b", 7, at(9)}, in[0], "input not modified")
}

func TestRecBoleAndSASRecExports(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in := []Interaction{{"uB", 20, at(2)}, {"uA", 30, at(1)}, {"uB", 10, at(1)}, {"uA", 20, at(5)}}
	p := filepath.Join(dir, "x.inter")
	require.NoError(t, WriteRecBole(ctx, p, in))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	t1, t2, t5 := at(1).Unix(), at(2).Unix(), at(5).Unix()
	assert.Equal(t, "user_id:token\titem_id:token\ttimestamp:float\n"+
		"uB\t20\t"+itoa(t2)+"\nuA\t30\t"+itoa(t1)+"\nuB\t10\t"+itoa(t1)+"\nuA\t20\t"+itoa(t5)+"\n", string(b))

	ids, err := WriteSASRec(ctx, filepath.Join(dir, "x.txt"), in)
	require.NoError(t, err)
	b, err = os.ReadFile(filepath.Join(dir, "x.txt"))
	require.NoError(t, err)
	// uA (user 1): 30 then 20; uB (user 2): 10 then 20.
	assert.Equal(t, "1 1\n1 2\n2 3\n2 2\n", string(b))
	assert.Equal(t, SASRecIDs{Users: []string{"uA", "uB"}, Items: []int64{30, 20, 10}}, ids)

	require.NoError(t, WriteRecBoleSplit(ctx, dir, "ml", SplitLeaveOneLast(in)))
	for _, part := range []string{"train", "valid", "test"} {
		_, err := os.Stat(filepath.Join(dir, "ml."+part+".inter"))
		assert.NoError(t, err)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-", "no temporary file left behind")
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestExportsLeaveNothingOnCancelOrFailure(t *testing.T) {
	dir := t.TempDir()
	in := make([]Interaction, 5000)
	for i := range in {
		in[i] = Interaction{User: "u" + itoa(int64(i%7)), Item: int64(i), Time: at(i % 60)}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := filepath.Join(dir, "x.inter")
	assert.ErrorIs(t, WriteRecBole(ctx, p, in), context.Canceled)
	_, err := WriteSASRec(ctx, filepath.Join(dir, "x.txt"), in)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, WriteRecBoleSplit(ctx, dir, "ml", SplitLeaveOneLast(in)), context.Canceled)
	assert.Empty(t, entries(t, dir))

	// An existing file is replaced only by a whole new one: a cancelled write keeps the old.
	require.NoError(t, WriteRecBole(context.Background(), p, in[:3]))
	old, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.ErrorIs(t, WriteRecBole(ctx, p, in), context.Canceled)
	now, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, old, now)

	// A split whose last file cannot be written removes the first two.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "ml.test.inter"), 0o755))
	err = WriteRecBoleSplit(context.Background(), dir, "ml", SplitLeaveOneLast(in))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "imagegem: "), err.Error())
	assert.ElementsMatch(t, []string{"x.inter", "ml.test.inter"}, entries(t, dir))
}
