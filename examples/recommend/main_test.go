package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/internal/cli/clitest"
	"github.com/imagegem/imagegem-go/recsys/recsystest"
)

// plantedFile writes the planted data of recsystest as a SASRec "user item" file.
func plantedFile(t *testing.T, dir string) string {
	t.Helper()
	in, _, err := recsystest.PlantedSplit(1)
	require.NoError(t, err)
	var b strings.Builder
	for u, seq := range in.Seqs {
		for _, it := range seq {
			fmt.Fprintf(&b, "%d %s\n", u+1, in.Items.ID(it))
		}
	}
	path := filepath.Join(dir, "planted.txt")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// execRun runs the program in-process and returns its status, stdout and stderr.
func execRun(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	status := cli.Status("recommend", run(context.Background(), args, &stdout, &stderr), context.Background(), &stderr)
	return status, stdout.String(), stderr.String()
}

// lastJSON decodes the last line of stdout.
func lastJSON(t *testing.T, stdout string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &res), stdout)
	return res
}

func TestEveryRecommenderPrintsMetrics(t *testing.T) {
	dir := t.TempDir()
	in := plantedFile(t, dir)
	for _, name := range []string{"itemknn", "userknn", "item2vec", "twotower", "sasrec"} {
		out := filepath.Join(dir, name+".model")
		status, stdout, stderr := execRun("-in", in, "-recommender", name, "-epochs", "2", "-protocol", "sampled100", "-out", out)
		require.Equal(t, 0, status, "%s: %s", name, stderr)
		res := lastJSON(t, stdout)
		assert.Equal(t, name, res["model"])
		assert.Equal(t, "sampled100", res["protocol"])
		assert.EqualValues(t, recsystest.Users, res["users"], name)
		assert.EqualValues(t, recsystest.Clusters*recsystest.ClusterSize, res["items"], name)
		assert.EqualValues(t, recsystest.Users, res["evaluated_users"], name)
		for _, k := range []string{"recall@10", "ndcg@10", "mrr@10", "recall@50", "recall@100"} {
			v, ok := res[k].(float64)
			if assert.True(t, ok, "%s: %s missing", name, k) {
				assert.True(t, v >= 0 && v <= 1, "%s: %s = %v", name, k, v)
			}
		}
		assert.Equal(t, 1, strings.Count(stdout, "\n"), "%s: stdout holds the JSON line only", name)
		if name == "sasrec" || name == "twotower" || name == "item2vec" {
			assert.Contains(t, stderr, "epoch 2/2 loss ", name)
		}

		// The saved model evaluates to the same metrics.
		status, stdout2, stderr := execRun("-in", in, "-load", out, "-protocol", "sampled100")
		require.Equal(t, 0, status, "%s: %s", name, stderr)
		res2 := lastJSON(t, stdout2)
		for _, k := range []string{"recall@10", "ndcg@10", "recall@100"} {
			assert.Equal(t, res[k], res2[k], "%s %s after -load", name, k)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in := plantedFile(t, dir)
	for _, args := range [][]string{
		{},
		{"-in", in, "-recommender", "bogus"},
		{"-in", in, "-protocol", "bogus"},
		{"-in", in, "-out", "x", "-load", "y"},
		{"-in", in, "-nope"},
		{"-in", in, "extra"},
	} {
		status, stdout, _ := execRun(args...)
		assert.Equal(t, 2, status, "%v", args)
		assert.Empty(t, stdout, "%v", args)
	}
	// -out naming the input is refused before training, and the input is kept.
	status, _, stderr := execRun("-in", in, "-out", in)
	assert.Equal(t, 1, status)
	assert.Contains(t, stderr, "destination is one of the inputs")
	b, err := os.ReadFile(in)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "1 "))
	// A negative budget is a usage error.
	status, _, stderr = execRun("-in", in, "-recommender", "sasrec", "-max-minutes", "-1")
	assert.Equal(t, 2, status, stderr)
}

func TestHelpPrintsUsage(t *testing.T) {
	bin := clitest.Build(t)
	cmd := exec.Command(bin, "-h")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "-h exits with status 0")
	assert.Contains(t, stderr.String(), "usage: recommend -in FILE")
	assert.Contains(t, stderr.String(), "-recommender")
}

// TestInterruptDuringTraining sends SIGINT while SASRec trains for a million epochs: the
// program must exit within clitest.ExitWithin with status 130 and write no model.
func TestInterruptDuringTraining(t *testing.T) {
	bin := clitest.Build(t)
	dir := t.TempDir()
	in := plantedFile(t, dir)
	outDir := filepath.Join(dir, "out")
	require.NoError(t, os.Mkdir(outDir, 0o755))
	r := clitest.Interrupt(t, bin, []string{"-in", in, "-recommender", "sasrec", "-epochs", "1000000",
		"-out", filepath.Join(outDir, "sasrec.model")}, "epoch 3/", 0)
	assert.Equal(t, 130, r.Status, r.Stderr)
	assert.Contains(t, r.Stderr, "context canceled")
	assert.Empty(t, r.Stdout, "no result line after an interrupt")
	assert.Empty(t, clitest.Files(t, outDir), "no model file after an interrupt")
}
