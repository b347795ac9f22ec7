package imagegem_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/imagegem/synth"
	"github.com/imagegem/imagegem-go/internal/shareddata"
	"github.com/imagegem/imagegem-go/recsys"
)

// The paper's §5.2 split exists twice: imagegem.SplitLeaveOneLast keeps users and times for
// the RecBole exports, recsys.LeaveOneLast works on the dense sequences models train on.
// These tests hold them to the same answer: the same evaluated users with the same held-out
// validation and test items.

// heldOut is one user's validation and test item.
type heldOut struct{ valid, test string }

func imagegemHeldOut(t *testing.T, s imagegem.Split) (map[string]heldOut, map[string]int) {
	t.Helper()
	require.Equal(t, len(s.Valid), len(s.Test))
	out := map[string]heldOut{}
	for i := range s.Valid {
		require.Equal(t, s.Valid[i].User, s.Test[i].User)
		out[s.Valid[i].User] = heldOut{strconv.FormatInt(s.Valid[i].Item, 10), strconv.FormatInt(s.Test[i].Item, 10)}
	}
	train := map[string]int{}
	for _, in := range s.Train {
		train[in.User]++
	}
	return out, train
}

// recsysHeldOut maps recsys's split back to identifiers through user and item names, which
// userName and itemName translate (identity for a file read as is).
func recsysHeldOut(t *testing.T, in *recsys.Interactions, userName, itemName func(string) string) (map[string]heldOut, map[string]int) {
	t.Helper()
	s, err := recsys.LeaveOneLast(in)
	require.NoError(t, err)
	out := map[string]heldOut{}
	train := map[string]int{}
	for u := 0; u < s.NumUsers(); u++ {
		user := userName(in.Users.ID(int32(u)))
		train[user] = len(s.Train[u])
		if s.Valid[u] < 0 {
			continue
		}
		out[user] = heldOut{itemName(in.Items.ID(s.Valid[u])), itemName(in.Items.ID(s.Test[u]))}
	}
	return out, train
}

func TestLeaveOneLastAgreesWithRecsysOnSyntheticRelease(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := synth.Generate(ctx, dir, &synth.Options{Seed: 12, Images: 3000})
	require.NoError(t, err)
	rel, err := imagegem.Open(ctx, dir, &imagegem.Options{Threads: 1})
	require.NoError(t, err)
	defer rel.Close()
	for _, kind := range []imagegem.InteractionKind{imagegem.UserModel, imagegem.UserImage} {
		inters, err := rel.Interactions(ctx, kind, &imagegem.InteractionOptions{MinPerUser: 1})
		require.NoError(t, err)
		want, wantTrain := imagegemHeldOut(t, imagegem.SplitLeaveOneLast(inters))
		require.NotEmpty(t, want)

		// The path a user takes to train: the SASRec export read by recsys.
		path := filepath.Join(t.TempDir(), "inter.txt")
		ids, err := imagegem.WriteSASRec(ctx, path, inters)
		require.NoError(t, err)
		in, err := recsys.LoadInteractionsFile(path, recsys.FormatSASRec)
		require.NoError(t, err)
		back := func(list func(int) string) func(string) string {
			return func(id string) string {
				n, err := strconv.Atoi(id)
				require.NoError(t, err)
				return list(n - 1)
			}
		}
		got, gotTrain := recsysHeldOut(t, in,
			back(func(i int) string { return ids.Users[i] }),
			back(func(i int) string { return strconv.FormatInt(ids.Items[i], 10) }))
		assert.Equal(t, want, got, kind.String())
		assert.Equal(t, wantTrain, gotTrain, kind.String())
	}
}

func TestLeaveOneLastAgreesWithRecsysOnRealSequences(t *testing.T) {
	// Amazon Video sequences as SASRec distributes them: each user's lines in time order.
	path := shareddata.Path(t, "recsys", "sasrec_Video.txt")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var inters []imagegem.Interaction
	pos := map[string]int{}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			continue
		}
		item, err := strconv.ParseInt(fields[1], 10, 64)
		require.NoError(t, err)
		u := fields[0]
		// Times strictly increase within a user, so the split's order is the file's.
		inters = append(inters, imagegem.Interaction{User: u, Item: item, Time: t0.Add(time.Duration(pos[u]) * time.Second)})
		pos[u]++
	}
	require.NoError(t, sc.Err())
	require.Greater(t, len(inters), 100_000)
	want, wantTrain := imagegemHeldOut(t, imagegem.SplitLeaveOneLast(inters))

	in, err := recsys.LoadInteractionsFile(path, recsys.FormatSASRec)
	require.NoError(t, err)
	same := func(s string) string { return s }
	got, gotTrain := recsysHeldOut(t, in, same, same)
	assert.Equal(t, len(want), len(got))
	assert.Equal(t, want, got)
	assert.Equal(t, wantTrain, gotTrain)
}
