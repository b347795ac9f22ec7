package imagegem

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/imagegem/imagegem-go/internal/atomicfile"
)

// InteractionKind selects the interactions of paper §5.2.
type InteractionKind int

const (
	// UserModel interactions pair a user with each LoRA version they made an image with
	// (userHash, modelVersionId, createdAt), keeping the last timestamp of each pair: the
	// Models-200K recommendation setting.
	UserModel InteractionKind = iota
	// UserImage interactions pair a user with each image they made (userHash, imageId,
	// createdAt): the Images-1M setting.
	UserImage
)

func (k InteractionKind) String() string {
	switch k {
	case UserModel:
		return "user-model"
	case UserImage:
		return "user-image"
	}
	return fmt.Sprintf("InteractionKind(%d)", int(k))
}

// DefaultMinInteractions is the paper's filter (§5.2): users with fewer than 3 interactions
// are dropped, so that every kept user has a training, a validation and a test item.
const DefaultMinInteractions = 3

// InteractionOptions configure [Release.Interactions]. Nil and the zero value mean the
// defaults.
type InteractionOptions struct {
	// MinPerUser drops users with fewer interactions; 0 means DefaultMinInteractions and 1
	// keeps every user. Negative values are invalid.
	MinPerUser int
}

// resolve returns the options with defaults filled in, or an error wrapping
// ErrInvalidOptions.
func (o *InteractionOptions) resolve() (InteractionOptions, error) {
	var r InteractionOptions
	if o != nil {
		r = *o
	}
	if r.MinPerUser < 0 {
		return r, invalid("InteractionOptions", "MinPerUser", "%d is negative (1 keeps every user)", r.MinPerUser)
	}
	if r.MinPerUser == 0 {
		r.MinPerUser = DefaultMinInteractions
	}
	return r, nil
}

// Interaction is one user–item event. Item is a modelVersionId or an imageId.
type Interaction struct {
	User string
	Item int64
	Time time.Time
}

// Interactions returns the interactions of the given kind, ordered by user, then time, then
// item. Rows with a missing user, item or time are left out.
func (r *Release) Interactions(ctx context.Context, kind InteractionKind, opts *InteractionOptions) ([]Interaction, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	var item string
	switch kind {
	case UserModel:
		item = `"modelVersionId"`
	case UserImage:
		item = `"imageId"`
	default:
		return nil, fmt.Errorf("imagegem: interactions: unknown kind %d", int(kind))
	}
	q := fmt.Sprintf(`WITH p AS (
		SELECT "userHash" AS u, %s AS i, max("createdAt") AS t FROM images
		WHERE "userHash" IS NOT NULL AND %s IS NOT NULL AND "createdAt" IS NOT NULL GROUP BY 1, 2),
	k AS (SELECT u FROM p GROUP BY u HAVING count(*) >= ?)
	SELECT u, i, t FROM p WHERE u IN (SELECT u FROM k) ORDER BY u, t, i`, item, item)
	rows, err := r.db.QueryContext(ctx, q, o.MinPerUser)
	if err != nil {
		return nil, fmt.Errorf("imagegem: %s interactions: %w", kind, firstLine(err))
	}
	defer rows.Close()
	var out []Interaction
	for rows.Next() {
		if len(out)%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("imagegem: %s interactions: %w", kind, err)
			}
		}
		var in Interaction
		if err := rows.Scan(&in.User, &in.Item, &in.Time); err != nil {
			return nil, fmt.Errorf("imagegem: %s interactions: %w", kind, err)
		}
		in.Time = in.Time.UTC()
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("imagegem: %s interactions: %w", kind, firstLine(err))
	}
	return out, nil
}

// Split is a leave-one-last split: for each user, the last interaction in time is the test
// item, the one before it the validation item, the rest training.
type Split struct {
	Train, Valid, Test []Interaction
}

// minSplitLength is the shortest history that gets a validation and a test item (§5.2; the
// same bound as recsys.MinSplitLength).
const minSplitLength = 3

// SplitLeaveOneLast splits interactions per user by time (ties by item). A user with fewer
// than 3 interactions has all of them in Train. The input need not be sorted and is not
// modified; each part is ordered by user, time, item.
func SplitLeaveOneLast(inters []Interaction) Split {
	sorted := append([]Interaction(nil), inters...)
	sortInteractions(sorted)
	var s Split
	for start := 0; start < len(sorted); {
		end := start + 1
		for end < len(sorted) && sorted[end].User == sorted[start].User {
			end++
		}
		user := sorted[start:end]
		if len(user) < minSplitLength {
			s.Train = append(s.Train, user...)
		} else {
			n := len(user)
			s.Train = append(s.Train, user[:n-2]...)
			s.Valid = append(s.Valid, user[n-2])
			s.Test = append(s.Test, user[n-1])
		}
		start = end
	}
	return s
}

func sortInteractions(in []Interaction) {
	sort.SliceStable(in, func(a, b int) bool {
		x, y := in[a], in[b]
		if x.User != y.User {
			return x.User < y.User
		}
		if !x.Time.Equal(y.Time) {
			return x.Time.Before(y.Time)
		}
		return x.Item < y.Item
	})
}

// RecBoleHeader is the header line of a RecBole atomic .inter file as written here.
const RecBoleHeader = "user_id:token\titem_id:token\ttimestamp:float"

// WriteRecBole writes interactions as a RecBole atomic .inter file: a tab-separated header
// "user_id:token item_id:token timestamp:float", then one line per interaction with the Unix
// time in seconds. The file appears whole or not at all: a failed or cancelled write leaves
// path as it was.
func WriteRecBole(ctx context.Context, path string, inters []Interaction) error {
	return writeFile(ctx, path, func(w *bufio.Writer) error {
		if _, err := w.WriteString(RecBoleHeader + "\n"); err != nil {
			return err
		}
		for i, in := range inters {
			if i%ctxCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			w.WriteString(in.User)
			w.WriteByte('\t')
			w.WriteString(strconv.FormatInt(in.Item, 10))
			w.WriteByte('\t')
			w.WriteString(strconv.FormatInt(in.Time.Unix(), 10))
			if err := w.WriteByte('\n'); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteRecBoleSplit writes a split as RecBole's benchmark files NAME.train.inter,
// NAME.valid.inter and NAME.test.inter in dir (RecBole's benchmark_filename setting). Each
// file is written as by [WriteRecBole]; on error the files already written are removed.
func WriteRecBoleSplit(ctx context.Context, dir, name string, s Split) error {
	var written []string
	for _, p := range []struct {
		suffix string
		rows   []Interaction
	}{{"train", s.Train}, {"valid", s.Valid}, {"test", s.Test}} {
		path := filepath.Join(dir, name+"."+p.suffix+".inter")
		if err := WriteRecBole(ctx, path, p.rows); err != nil {
			for _, w := range written {
				os.Remove(w)
			}
			return err
		}
		written = append(written, path)
	}
	return nil
}

// SASRecIDs maps the 1-based integer ids of a SASRec text file back to the release's users
// and items: Users[i-1] is user i, Items[j-1] is item j.
type SASRecIDs struct {
	Users []string
	Items []int64
}

// WriteSASRec writes interactions as a SASRec text file: one "user item" line per
// interaction, users numbered from 1 in userHash order, items from 1 in order of first
// appearance, each user's lines in time order. It returns the id maps. The file appears
// whole or not at all.
func WriteSASRec(ctx context.Context, path string, inters []Interaction) (SASRecIDs, error) {
	sorted := append([]Interaction(nil), inters...)
	sortInteractions(sorted)
	var ids SASRecIDs
	itemID := map[int64]int{}
	userID := 0
	err := writeFile(ctx, path, func(w *bufio.Writer) error {
		for i, in := range sorted {
			if i%ctxCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if i == 0 || in.User != sorted[i-1].User {
				userID++
				ids.Users = append(ids.Users, in.User)
			}
			id, ok := itemID[in.Item]
			if !ok {
				ids.Items = append(ids.Items, in.Item)
				id = len(ids.Items)
				itemID[in.Item] = id
			}
			if _, err := fmt.Fprintf(w, "%d %d\n", userID, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return SASRecIDs{}, err
	}
	return ids, nil
}

// ctxCheckEvery is how many rows a loop handles between two looks at its context.
const ctxCheckEvery = 1024

// writeFile writes path through internal/atomicfile with a buffer, so that a reader never
// sees a half-written file and a cancelled ctx leaves path as it was.
func writeFile(ctx context.Context, path string, fill func(*bufio.Writer) error) error {
	var fillErr error
	err := atomicfile.Write(ctx, path, nil, func(f io.Writer) error {
		w := bufio.NewWriterSize(f, 1<<20)
		if fillErr = fill(w); fillErr != nil {
			return fillErr
		}
		return w.Flush()
	})
	switch {
	case err == nil:
		return nil
	case fillErr != nil:
		// fill's own errors (a cancelled ctx) do not name the file yet; atomicfile's do.
		return fmt.Errorf("imagegem: write %s: %w", path, err)
	}
	return fmt.Errorf("imagegem: %w", err)
}
