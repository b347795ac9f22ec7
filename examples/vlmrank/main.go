// Command vlmrank runs the two-stage recommender of paper §4.2 and §5.2.2 on a release: a
// first-stage recommender of package recsys retrieves each user's top M = 10 images, then a
// vision-language model behind an OpenAI-compatible API writes the user's visual preference
// profile from their latest H = 5 images and scores the ten candidates against it by
// randomized scoring (Appendix B.1.5). It evaluates both stages in the shape of paper Table 7
// on users whose held-out image the first stage put in its top ten.
//
//	vlmrank -base-url http://localhost:8000/v1 -model mistralai/Pixtral-12B-2409 -server vllm -max-images 10 \
//	    -data /data/imagegem -users 20 -out /tmp/vlmrank
//
// Flags:
//
//	-base-url URL     the API root (required; or $OPENAI_BASE_URL); the key is $OPENAI_API_KEY
//	-model NAME       the served model (required)
//	-server S         openai (default), vllm, llamacpp or ollama: the server's known quirks
//	-max-images N     images the server takes per request (vLLM: --limit-mm-per-prompt); it
//	                  must be at least H = 5 for the profile
//	-data DIR         the release folder (required)
//	-kind K           images (default: user–image interactions, candidate images scored with
//	                  the image rubric) or models (user–LoRA interactions, candidate models
//	                  captioned from their most-liked prompts and scored with the model bands;
//	                  the profile comes from the user's latest images before the held-out one)
//	-images DIR       local image files named <imageId>.<jpeg|jpg|png|webp>; images missing
//	                  there are sent as their release URL for the server to fetch
//	-users N          users to evaluate (the paper: 20)
//	-trials T, -k K   randomized scoring: T requests of K candidates each (K 0: as many as
//	                  the server takes, at most 5)
//	-recommender R    the first stage: itemknn (default), userknn or item2vec
//	-seed N           user sample, first stage and the scoring subsets
//	-cache DIR        reply cache: a rerun sends nothing
//	-timeout D        per-request timeout (default 2m)
//	-out DIR          where profiles.jsonl, scores.jsonl and table7.json go (required)
//
// The output files are written once every user is done; Ctrl-C stops the requests in flight
// and exits with status 130, writing nothing (replies already in -cache stay there).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imagegem/imagegem-go/imagegem"
	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/cli"
	"github.com/imagegem/imagegem-go/recsys"
	"github.com/imagegem/imagegem-go/recsys/vlm"
)

const synopsis = "vlmrank -base-url URL -model NAME -data DIR -users N [-trials T -k K] -out DIR [flags]"

func main() { cli.Main("vlmrank", run) }

// profileLine is one line of profiles.jsonl.
type profileLine struct {
	User    string      `json:"user"`
	History []int64     `json:"history"`
	Profile vlm.Profile `json:"profile"`
}

// scoreLine is one line of scores.jsonl.
type scoreLine struct {
	User           string               `json:"user"`
	HeldOut        int64                `json:"held_out"`
	FirstStageRank int                  `json:"first_stage_rank"`
	VLMRank        int                  `json:"vlm_rank"`
	Candidates     []vlm.CandidateScore `json:"candidates"`
}

// result is the last line.
type result struct {
	Users      int         `json:"users"`
	FirstStage vlm.RankRow `json:"first_stage"`
	VLM        vlm.RankRow `json:"vlm"`
	Stats      vlm.Stats   `json:"requests"`
	Out        string      `json:"out"`
	Seconds    float64     `json:"seconds"`
	Trials     int         `json:"trials"`
	K          int         `json:"k"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("vlmrank", synopsis, stderr)
	var (
		baseURL     = fs.String("base-url", os.Getenv(vlm.BaseURLEnv), "API root `URL`, e.g. http://localhost:8000/v1 (required)")
		model       = fs.String("model", "", "served model `name` (required)")
		server      = fs.String("server", "openai", "openai|vllm|llamacpp|ollama")
		maxImages   = fs.Int("max-images", 0, "images per request the server takes (0: the server profile's)")
		data        = fs.String("data", "", "release `folder` (required)")
		imagesDir   = fs.String("images", "", "`folder` of local images named <imageId>.<ext>")
		users       = fs.Int("users", 20, "users to evaluate")
		trials      = fs.Int("trials", vlm.DefaultTrials, "randomized scoring: requests per user")
		k           = fs.Int("k", 0, "randomized scoring: candidates per request (0: automatic)")
		kind        = fs.String("kind", "images", "images (user–image interactions, image ranking) or models (user–LoRA interactions, model captioning and ranking)")
		recommender = fs.String("recommender", "itemknn", "first stage: itemknn|userknn|item2vec")
		seed        = fs.Uint64("seed", 0, "random seed")
		cacheDir    = fs.String("cache", "", "reply cache `folder`")
		timeout     = fs.Duration("timeout", 2*time.Minute, "per-request timeout")
		out         = fs.String("out", "", "output `folder` (required)")
	)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Require(fs, "base-url", "model", "data", "out"); err != nil {
		return err
	}
	if *users < 1 || *trials < 1 || *k < 0 || *maxImages < 0 || *timeout <= 0 {
		return cli.Usagef("-users and -trials must be positive, -k and -max-images not negative, -timeout positive")
	}
	if *kind != "images" && *kind != "models" {
		return cli.Usagef("-kind %q: want images or models", *kind)
	}
	start := time.Now()
	client, err := vlm.New(&vlm.Options{BaseURL: *baseURL, Model: *model, Server: vlm.Server(*server), MaxImages: *maxImages,
		CacheDir: *cacheDir, Timeout: *timeout, Seed: int64(*seed)})
	if err != nil {
		return err
	}
	if m := client.MaxImages(); m > 0 && m < vlm.HistoryLength {
		return cli.Usagef("the server takes %d images per request; the profile needs %d (-max-images; vLLM: --limit-mm-per-prompt)", m, vlm.HistoryLength)
	}

	rel, err := imagegem.Open(ctx, *data, nil)
	if err != nil {
		return err
	}
	defer rel.Close()
	ikind := imagegem.UserImage
	if *kind == "models" {
		ikind = imagegem.UserModel
	}
	inters, err := rel.Interactions(ctx, ikind, nil)
	if err != nil {
		return err
	}
	in, userIDs, itemIDs, times, err := toRecsys(inters)
	if err != nil {
		return err
	}
	split, err := recsys.LeaveOneLast(in)
	if err != nil {
		return err
	}
	var m recsys.Model
	switch *recommender {
	case "itemknn":
		m, err = recsys.NewItemKNN(nil)
	case "userknn":
		m, err = recsys.NewUserKNN(nil)
	case "item2vec":
		m, err = recsys.NewItem2Vec(&recsys.Item2VecOptions{Seed: *seed})
	default:
		return cli.Usagef("-recommender %q: want itemknn, userknn or item2vec", *recommender)
	}
	if err != nil {
		return err
	}
	if err := m.Fit(ctx, split); err != nil {
		return err
	}
	picked, err := pickUsers(ctx, m, split, *users, *seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "first stage: %s on %d users, %d items; %d users with the held-out image in the top %d\n",
		m.Name(), in.NumUsers(), in.NumItems(), len(picked), vlm.Candidates)
	if len(picked) == 0 {
		return fmt.Errorf("no user has the held-out image in the first stage's top %d", vlm.Candidates)
	}

	images := func(items []int32) ([]vlm.Image, []int64, error) {
		var ims []vlm.Image
		var ids []int64
		for _, it := range items {
			id := itemIDs[it]
			im, err := imageOf(ctx, rel, *imagesDir, id)
			if err != nil {
				return nil, nil, err
			}
			ims, ids = append(ims, im), append(ids, id)
		}
		return ims, ids, nil
	}
	var profiles []profileLine
	var lines []scoreLine
	var firstRanks, vlmRanks []int
	kUsed := *k
	mi := client.MaxImages()
	if *kind == "models" {
		mi = 0 // text candidates: no image limit
	}
	if kUsed == 0 {
		kUsed = vlm.DefaultK
		if mi > 0 {
			kUsed = min(kUsed, mi)
		}
	}
	if mi > 0 && kUsed > mi {
		return cli.Usagef("-k %d is above the server's %d images per request", kUsed, mi)
	}
	for i, p := range picked {
		fmt.Fprintf(stderr, "user %d/%d: %s: profile and scoring\n", i+1, len(picked), userIDs[p.user])
		var histImages []vlm.Image
		var histIDs []int64
		var cands []vlm.Candidate
		if *kind == "images" {
			hist := split.History(p.user, recsys.StageTest)
			hist = hist[max(0, len(hist)-vlm.HistoryLength):]
			if histImages, histIDs, err = images(hist); err != nil {
				return err
			}
			candImages, candIDs, err := images(p.top)
			if err != nil {
				return err
			}
			for j := range p.top {
				cands = append(cands, vlm.Candidate{ID: strconv.FormatInt(candIDs[j], 10), Image: candImages[j]})
			}
		} else {
			if histImages, histIDs, err = userImagesBefore(ctx, rel, *imagesDir, userIDs[p.user], times[p.user]); err != nil {
				return err
			}
			if cands, err = modelCandidates(ctx, client, rel, p.top, itemIDs); err != nil {
				return err
			}
		}
		if len(histImages) == 0 {
			fmt.Fprintf(stderr, "user %d/%d: no images before the held-out item; skipped\n", i+1, len(picked))
			continue
		}
		prof, err := client.DescribeUser(ctx, histImages, nil)
		if err != nil {
			return fmt.Errorf("user %s: profile: %w", userIDs[p.user], err)
		}
		so := &vlm.ScoreOptions{Trials: *trials, K: min(kUsed, len(cands)), Seed: *seed + uint64(p.user)}
		scores, err := client.ScoreCandidates(ctx, prof, cands, so)
		if err != nil {
			return fmt.Errorf("user %s: scoring: %w", userIDs[p.user], err)
		}
		heldOut := itemIDs[split.Test[p.user]]
		vr := vlm.RankOf(scores, strconv.FormatInt(heldOut, 10))
		firstRanks, vlmRanks = append(firstRanks, p.rank), append(vlmRanks, vr)
		profiles = append(profiles, profileLine{User: userIDs[p.user], History: histIDs, Profile: prof})
		lines = append(lines, scoreLine{User: userIDs[p.user], HeldOut: heldOut, FirstStageRank: p.rank, VLMRank: vr, Candidates: scores})
		st := client.Stats()
		fmt.Fprintf(stderr, "user %d/%d: held-out image ranked %d by %s, %d by the VLM (%d requests, %d retries, %d cached)\n",
			i+1, len(picked), p.rank, m.Name(), vr, st.Requests, st.Retries, st.CacheHits)
	}

	first, err := vlm.Row(m.Name(), firstRanks)
	if err != nil {
		return err
	}
	second, err := vlm.Row("VLM ("+*model+")", vlmRanks)
	if err != nil {
		return err
	}
	res := result{Users: len(picked), FirstStage: first, VLM: second, Stats: client.Stats(), Out: *out,
		Seconds: time.Since(start).Seconds(), Trials: *trials, K: kUsed}
	if err := writeOutputs(ctx, *out, profiles, lines, []vlm.RankRow{first, second}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Table 7 shape: %d users, H = %d, M = %d, T = %d, k = %d\n", len(picked), vlm.HistoryLength, vlm.Candidates, *trials, kUsed)
	fmt.Fprint(stdout, vlm.FormatTable([]vlm.RankRow{first, second}))
	return cli.JSON(stdout, res)
}

// toRecsys turns the release's interactions (ordered by user, then time) into dense
// sequences; times holds each user's last interaction time (the held-out item's).
func toRecsys(inters []imagegem.Interaction) (*recsys.Interactions, []string, []int64, []time.Time, error) {
	items := recsys.NewIDMap()
	var users []string
	var times []time.Time
	var seqs [][]int32
	for _, x := range inters {
		if len(users) == 0 || users[len(users)-1] != x.User {
			users = append(users, x.User)
			seqs = append(seqs, nil)
			times = append(times, time.Time{})
		}
		seqs[len(seqs)-1] = append(seqs[len(seqs)-1], items.Add(strconv.FormatInt(x.Item, 10)))
		times[len(times)-1] = x.Time
	}
	itemIDs := make([]int64, items.Len())
	for i, s := range items.IDs() {
		itemIDs[i], _ = strconv.ParseInt(s, 10, 64)
	}
	in, err := recsys.NewInteractions(seqs, items.Len())
	return in, users, itemIDs, times, err
}

// userImagesBefore returns the user's latest H images made before t (so that the held-out
// model's own images do not describe the user).
func userImagesBefore(ctx context.Context, rel *imagegem.Release, dir, user string, t time.Time) ([]vlm.Image, []int64, error) {
	all, err := rel.UserImages(ctx, user)
	if err != nil {
		return nil, nil, err
	}
	var ims []vlm.Image
	var ids []int64
	for _, im := range all {
		if !im.CreatedAt.Before(t) {
			continue
		}
		v, err := imageOf(ctx, rel, dir, im.ID)
		if err != nil {
			return nil, nil, err
		}
		ims, ids = append(ims, v), append(ids, im.ID)
	}
	n := len(ims)
	return ims[max(0, n-vlm.HistoryLength):], ids[max(0, n-vlm.HistoryLength):], nil
}

// modelPrompts is how many most-liked prompts describe a model.
const modelPrompts = 5

// modelCandidates captions the candidate models from their most-liked prompts (one request
// for all of them) and returns them as text candidates.
func modelCandidates(ctx context.Context, client *vlm.Client, rel *imagegem.Release, top []int32, itemIDs []int64) ([]vlm.Candidate, error) {
	infos := make([]vlm.ModelInfo, len(top))
	for j, it := range top {
		id := itemIDs[it]
		v, err := rel.ModelVersion(ctx, id)
		if err != nil {
			return nil, err
		}
		ims, err := rel.VersionImages(ctx, id, 0)
		if err != nil {
			return nil, err
		}
		sort.SliceStable(ims, func(a, b int) bool { return ims[a].Reactions.Total() > ims[b].Reactions.Total() })
		info := vlm.ModelInfo{ID: strconv.FormatInt(id, 10), Name: v.ModelName}
		for _, im := range ims {
			if pr := im.Generation.Prompt; pr != "" && len(info.Prompts) < modelPrompts {
				info.Prompts = append(info.Prompts, pr)
			}
		}
		infos[j] = info
	}
	captions, err := client.DescribeModels(ctx, infos, nil)
	if err != nil {
		return nil, err
	}
	cands := make([]vlm.Candidate, len(infos))
	for j, info := range infos {
		text := captions[info.ID]
		if text == "" { // left out of the reply: its name and prompts speak for it
			text = info.Name + ": " + strings.Join(info.Prompts, "; ")
		}
		cands[j] = vlm.Candidate{ID: info.ID, Text: text}
	}
	return cands, nil
}

// pick is a user whose held-out item is in the first stage's top M.
type pick struct {
	user int
	top  []int32 // the M candidates, best first
	rank int     // the held-out item's 1-based rank among them
}

// pickUsers visits users in a seeded random order and keeps the first n whose held-out item
// the model ranks in its top M (the history masked, as in full-ranking evaluation).
func pickUsers(ctx context.Context, m recsys.Model, s *recsys.Split, n int, seed uint64) ([]pick, error) {
	order := rand.New(rand.NewPCG(seed, 0x766c6d)).Perm(s.NumUsers())
	scores := make([]float32, s.NumItems)
	var out []pick
	for _, u := range order {
		if len(out) == n {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		target := s.Test[u]
		hist := s.History(u, recsys.StageTest)
		if target < 0 || len(hist) < vlm.HistoryLength {
			continue
		}
		if err := m.Score(u, hist, scores); err != nil {
			return nil, err
		}
		masked := map[int32]bool{}
		if !m.Sequential() {
			for _, h := range hist {
				masked[h] = true
			}
		}
		idx := make([]int32, 0, len(scores))
		for i := range scores {
			if !masked[int32(i)] || int32(i) == target {
				idx = append(idx, int32(i))
			}
		}
		sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
		top := idx[:min(vlm.Candidates, len(idx))]
		for r, it := range top {
			if it == target {
				out = append(out, pick{user: u, top: append([]int32(nil), top...), rank: r + 1})
				break
			}
		}
	}
	return out, nil
}

// imageOf is a local file of the image when -images has one, else its release URL.
func imageOf(ctx context.Context, rel *imagegem.Release, dir string, id int64) (vlm.Image, error) {
	if dir != "" {
		for _, ext := range []string{".jpeg", ".jpg", ".png", ".webp"} {
			p := filepath.Join(dir, strconv.FormatInt(id, 10)+ext)
			if _, err := os.Stat(p); err == nil {
				return vlm.ImageFile(p), nil
			}
		}
	}
	im, err := rel.Image(ctx, id)
	if err != nil {
		return vlm.Image{}, err
	}
	if im.URL == "" {
		return vlm.Image{}, fmt.Errorf("image %d: no local file and no URL", id)
	}
	return vlm.ImageURL(im.URL), nil
}

// writeOutputs writes the three files, each through internal/atomicfile.
func writeOutputs(ctx context.Context, dir string, profiles []profileLine, lines []scoreLine, rows []vlm.RankRow) error {
	if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
		return err
	}
	jsonl := func(name string, n int, item func(i int) any) error {
		return atomicfile.Write(ctx, filepath.Join(dir, name), nil, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			for i := range n {
				if err := enc.Encode(item(i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := jsonl("profiles.jsonl", len(profiles), func(i int) any { return profiles[i] }); err != nil {
		return err
	}
	if err := jsonl("scores.jsonl", len(lines), func(i int) any { return nanSafe(lines[i]) }); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(ctx, filepath.Join(dir, "table7.json"), append(b, '\n'), nil)
}

// nanSafe replaces the NaN scores of never-scored candidates (JSON has no NaN) by -1.
func nanSafe(l scoreLine) scoreLine {
	c := make([]vlm.CandidateScore, len(l.Candidates))
	copy(c, l.Candidates)
	for i := range c {
		if !c[i].Scored() {
			c[i].Score = -1
		}
	}
	l.Candidates = c
	return l
}
