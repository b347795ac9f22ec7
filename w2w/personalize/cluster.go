package personalize

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/imagegem/imagegem-go/embed"
	"github.com/imagegem/imagegem-go/embed/hdbscan"
	"github.com/imagegem/imagegem-go/recsys/vlm"
)

// Vectors is where the CLIP embeddings come from, keyed by image id: an *embed.Store
// satisfies it. Personalization reads vectors and never embeds an image itself.
type Vectors interface {
	// Dim is the width of a vector.
	Dim() int
	// Lookup writes the vector of each id into dst (len(ids)·Dim floats) and returns the
	// positions of the ids it does not hold, with an error.
	Lookup(ids []uint64, dst []float32) ([]int, error)
}

// Image is one image of a user's history or one example image of a LoRA.
type Image struct {
	// ID is the image's key in the embedding store (the release's image id).
	ID uint64
	// Path or URL lets the VLM see the image; only the VLM description needs them.
	Path, URL string
}

// vlmImage is the image as the VLM client takes it.
func (im Image) vlmImage() vlm.Image {
	if im.Path != "" {
		return vlm.ImageFile(im.Path)
	}
	return vlm.ImageURL(im.URL)
}

// History is one user's generation history: the images they made.
type History struct {
	User   string
	Images []Image
}

// UserImageEmbeddings returns the CLIP embeddings of a user's images (len(h.Images) rows of
// vecs.Dim(), row-major), the first step of §5.3.2. A history with no image is ErrNoImages;
// an image the store lacks is ErrMissingVector naming its id.
func UserImageEmbeddings(h History, vecs Vectors) ([]float32, error) {
	if len(h.Images) == 0 {
		return nil, fmt.Errorf("%w (user %q)", ErrNoImages, h.User)
	}
	ids := make([]uint64, len(h.Images))
	for i, im := range h.Images {
		ids[i] = im.ID
	}
	return lookup(vecs, ids, "user "+h.User)
}

// lookup reads ids from vecs, naming the first missing id in the error.
func lookup(vecs Vectors, ids []uint64, what string) ([]float32, error) {
	d := vecs.Dim()
	out := make([]float32, len(ids)*d)
	missing, err := vecs.Lookup(ids, out)
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s: image %d and %d more: %w", ErrMissingVector, what, ids[missing[0]], len(missing)-1, err)
	}
	if err != nil {
		return nil, fmt.Errorf("personalize: %s: %w", what, err)
	}
	for i := range out {
		if math.IsNaN(float64(out[i])) || math.IsInf(float64(out[i]), 0) {
			return nil, fmt.Errorf("%w: %s: image %d has a non-finite coordinate %d", ErrMissingVector, what, ids[i/d], i%d)
		}
	}
	return out, nil
}

// ClusterRule chooses the representative cluster among HDBSCAN's clusters.
type ClusterRule string

// Cluster rules.
const (
	// MostImages takes the cluster with the most images, ties broken by the higher
	// persistence, then by the lower label (the default).
	MostImages ClusterRule = "most-images"
	// MostPersistent takes the cluster with the highest persistence (the most stable
	// density mode), ties broken by size, then by the lower label.
	MostPersistent ClusterRule = "most-persistent"
)

// Defaults of [ClusterOptions].
const (
	// DefaultMinClusterSize is HDBSCAN's min_cluster_size for a user's images: the
	// reference's default of 5.
	DefaultMinClusterSize = hdbscan.DefaultMinClusterSize
	// CoherenceFactor sets how far from random the representative cluster must be: the
	// mean of n unit vectors in random directions has length about 1/√n, and a cluster whose
	// mean (of its unit embeddings) is shorter than CoherenceFactor/√n is no preference.
	CoherenceFactor = 3.0
	// DefaultMinClusterShare is the smallest share of a user's images the representative
	// cluster must hold to count as a clear preference. A cluster of a fifth of the images
	// is a taste; below it the "preference" is a handful of images among noise. (Our
	// choice: the paper only says the representative cluster is used.)
	DefaultMinClusterShare = 0.2
	// TopImages is how many images closest to the cluster mean the VLM describes (§5.3.2:
	// "the 9 images closest to the cluster center").
	TopImages = 9
)

// ClusterOptions configures the preference clustering. The zero value is HDBSCAN with the
// reference's defaults (min_cluster_size 5, Euclidean distance on the unit CLIP vectors),
// the MostImages rule and a minimum share of 0.2.
type ClusterOptions struct {
	// MinClusterSize is HDBSCAN's min_cluster_size (0 means 5; at least 2).
	MinClusterSize int
	// MinSamples is HDBSCAN's min_samples (0 means MinClusterSize).
	MinSamples int
	// Metric is HDBSCAN's distance; the zero value is Euclidean.
	Metric hdbscan.Metric
	// Rule picks the representative cluster ("" means MostImages).
	Rule ClusterRule
	// MinShare is the smallest share of the images the representative cluster must hold
	// (0 means DefaultMinClusterShare; in (0, 1]).
	MinShare float64
	// Top is how many images closest to the cluster mean are kept (0 means TopImages).
	Top int
	// AllowSingleCluster is HDBSCAN's allow_single_cluster: a history that is one broad
	// taste may come out as a single cluster instead of noise.
	AllowSingleCluster bool
}

func (o *ClusterOptions) resolve() (ClusterOptions, error) {
	var r ClusterOptions
	if o != nil {
		r = *o
	}
	switch {
	case r.MinClusterSize < 0 || r.MinClusterSize == 1:
		return r, invalid("ClusterOptions", "MinClusterSize", "%d is below 2", r.MinClusterSize)
	case r.MinSamples < 0:
		return r, invalid("ClusterOptions", "MinSamples", "%d is negative", r.MinSamples)
	case r.MinShare < 0 || r.MinShare > 1 || math.IsNaN(r.MinShare):
		return r, invalid("ClusterOptions", "MinShare", "%v is outside (0, 1]", r.MinShare)
	case r.Top < 0:
		return r, invalid("ClusterOptions", "Top", "%d is negative", r.Top)
	}
	if r.MinClusterSize == 0 {
		r.MinClusterSize = DefaultMinClusterSize
	}
	if r.MinShare == 0 {
		r.MinShare = DefaultMinClusterShare
	}
	if r.Top == 0 {
		r.Top = TopImages
	}
	switch r.Rule {
	case "":
		r.Rule = MostImages
	case MostImages, MostPersistent:
	default:
		return r, invalid("ClusterOptions", "Rule", "unknown rule %q", r.Rule)
	}
	return r, nil
}

// Cluster is a user's representative preference cluster.
type Cluster struct {
	// Label is the HDBSCAN label of the cluster; Clusters is how many HDBSCAN found and
	// Noise how many images it left out of every cluster.
	Label, Clusters, Noise int
	// Members are the indices (into the history) of the cluster's images.
	Members []int
	// Persistence is the cluster's persistence in HDBSCAN's condensed tree.
	Persistence float64
	// Share is len(Members) over the number of images.
	Share float64
	// Mean is the unit-length mean of the members' embeddings ("the cluster center").
	Mean []float32
	// Top are the indices (into the history) of the members closest to Mean, nearest first.
	Top []int
	// Coherence is the length of the mean of the members' unit embeddings: 1 when they all
	// agree, about 1/√n for n random directions.
	Coherence float64
}

// coherence is the length of the mean of the members' unit rows.
func coherence(emb []float32, dim int, members []int) float64 {
	acc := make([]float32, dim)
	for _, i := range members {
		row := append([]float32(nil), emb[i*dim:(i+1)*dim]...)
		embed.Normalize(row)
		for j, x := range row {
			acc[j] += x
		}
	}
	s := 0.0
	for _, x := range acc {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s) / float64(len(members))
}

// PreferenceCluster clusters a user's image embeddings (n rows of dim) with HDBSCAN and
// returns the representative cluster and the images closest to its mean (§5.3.2). Fewer
// images than the minimum cluster size is ErrTooFewImages; only noise, or a representative
// cluster below the minimum share, is ErrNoClearCluster.
func PreferenceCluster(ctx context.Context, emb []float32, dim int, opts *ClusterOptions) (*Cluster, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if dim <= 0 || len(emb)%dim != 0 {
		return nil, fmt.Errorf("personalize: preference cluster: %d values are not rows of %d", len(emb), dim)
	}
	n := len(emb) / dim
	if n == 0 {
		return nil, ErrNoImages
	}
	if n < o.MinClusterSize {
		return nil, fmt.Errorf("%w: %d images, min cluster size %d", ErrTooFewImages, n, o.MinClusterSize)
	}
	res, err := hdbscan.Fit(ctx, emb, dim, &hdbscan.Options{MinClusterSize: o.MinClusterSize, MinSamples: o.MinSamples, Metric: o.Metric, AllowSingleCluster: o.AllowSingleCluster})
	if err != nil {
		return nil, fmt.Errorf("personalize: preference cluster: %w", err)
	}
	c, err := RepresentativeCluster(res, o.Rule)
	if err != nil {
		return nil, err
	}
	if c.Share < o.MinShare {
		return nil, fmt.Errorf("%w: the largest cluster holds %d of %d images (%.0f%%), below the %.0f%% minimum", ErrNoClearCluster, len(c.Members), n, 100*c.Share, 100*o.MinShare)
	}
	c.Mean, c.Top = ClosestToClusterMean(emb, dim, c.Members, o.Top)
	c.Coherence = coherence(emb, dim, c.Members)
	if floor := CoherenceFactor / math.Sqrt(float64(len(c.Members))); c.Coherence < floor {
		return nil, fmt.Errorf("%w: the cluster's %d images point in random directions (mean length %.3f, below %.3f)", ErrNoClearCluster, len(c.Members), c.Coherence, floor)
	}
	return c, nil
}

// RepresentativeCluster picks the representative cluster of an HDBSCAN result by the rule
// (MostImages: most images, ties by persistence; MostPersistent: highest persistence, ties
// by size; remaining ties by the lower label). A result with no cluster is
// ErrNoClearCluster. Mean and Top are left for [ClosestToClusterMean].
func RepresentativeCluster(res *hdbscan.Result, rule ClusterRule) (*Cluster, error) {
	if res == nil || res.NumClusters == 0 {
		n := 0
		if res != nil {
			n = len(res.Labels)
		}
		return nil, fmt.Errorf("%w: HDBSCAN found only noise among %d images", ErrNoClearCluster, n)
	}
	size := make([]int, res.NumClusters)
	for _, l := range res.Labels {
		if l >= 0 && l < len(size) {
			size[l]++
		}
	}
	pers := func(l int) float64 {
		if l < len(res.Persistence) {
			return res.Persistence[l]
		}
		return 0
	}
	best := 0
	for l := 1; l < res.NumClusters; l++ {
		var better bool
		switch rule {
		case MostPersistent:
			better = pers(l) > pers(best) || pers(l) == pers(best) && size[l] > size[best]
		default:
			better = size[l] > size[best] || size[l] == size[best] && pers(l) > pers(best)
		}
		if better {
			best = l
		}
	}
	c := &Cluster{Label: best, Clusters: res.NumClusters, Noise: res.NumNoise(), Persistence: pers(best)}
	for i, l := range res.Labels {
		if l == best {
			c.Members = append(c.Members, i)
		}
	}
	c.Share = float64(len(c.Members)) / float64(len(res.Labels))
	return c, nil
}

// ClosestToClusterMean returns the unit-length mean of the members' embeddings and the k
// members closest to it by cosine similarity, nearest first (ties by the lower index).
func ClosestToClusterMean(emb []float32, dim int, members []int, k int) (mean []float32, top []int) {
	acc := make([]float64, dim)
	for _, i := range members {
		for j, x := range emb[i*dim : (i+1)*dim] {
			acc[j] += float64(x)
		}
	}
	mean = unit64(acc)
	type scored struct {
		i int
		s float64
	}
	ss := make([]scored, len(members))
	for a, i := range members {
		ss[a] = scored{i, embed.Cosine(emb[i*dim:(i+1)*dim], mean)}
	}
	sort.SliceStable(ss, func(a, b int) bool {
		if ss[a].s != ss[b].s {
			return ss[a].s > ss[b].s
		}
		return ss[a].i < ss[b].i
	})
	for a := 0; a < len(ss) && a < k; a++ {
		top = append(top, ss[a].i)
	}
	return mean, top
}

// unit64 returns acc scaled to unit length as float32 (a zero vector stays zero).
func unit64(acc []float64) []float32 {
	s := 0.0
	for _, x := range acc {
		s += x * x
	}
	out := make([]float32, len(acc))
	if s == 0 {
		return out
	}
	inv := 1 / math.Sqrt(s)
	for j, x := range acc {
		out[j] = float32(x * inv)
	}
	return out
}
