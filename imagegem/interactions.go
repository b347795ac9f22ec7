package imagegem

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
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
	if k == UserImage {
		return "user-image"
	}
	return "user-model"
}

// DefaultMinInteractions is the paper's filter (§5.2): users with fewer than 3 interactions
// are dropped, so that every kept user has a training, a validation and a test item.
const DefaultMinInteractions = 3

// InteractionOptions configure [Release.Interactions]. The zero value means the defaults.
type InteractionOptions struct {
	// MinPerUser drops users with fewer interactions; 0 means DefaultMinInteractions, and a
	// negative value keeps every user.
	MinPerUser int
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
	min := DefaultMinInteractions
	if opts != nil && opts.MinPerUser != 0 {
		min = opts.MinPerUser
	}
	item := `"modelVersionId"`
	if kind == UserImage {
		item = `"imageId"`
	}
	q := fmt.Sprintf(`WITH p AS (
		SELECT "userHash" AS u, %s AS i, max("createdAt") AS t FROM images
		WHERE "userHash" IS NOT NULL AND %s IS NOT NULL AND "createdAt" IS NOT NULL GROUP BY 1, 2),
	k AS (SELECT u FROM p GROUP BY u HAVING count(*) >= ?)
	SELECT u, i, t FROM p WHERE u IN (SELECT u FROM k) ORDER BY u, t, i`, item, item)
	rows, err := r.db.QueryContext(ctx, q, min)
	if err != nil {
		return nil, fmt.Errorf("imagegem: %s interactions: %w", kind, firstLine(err))
	}
	defer rows.Close()
	var out []Interaction
	for rows.Next() {
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
		if len(user) < 3 {
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
// time in seconds. The file is written beside path and renamed into place.
func WriteRecBole(path string, inters []Interaction) error {
	return writeAtomic(path, func(w *bufio.Writer) error {
		if _, err := w.WriteString(RecBoleHeader + "\n"); err != nil {
			return err
		}
		for _, in := range inters {
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
// NAME.valid.inter and NAME.test.inter in dir (RecBole's benchmark_filename setting).
func WriteRecBoleSplit(dir, name string, s Split) error {
	for _, p := range []struct {
		suffix string
		rows   []Interaction
	}{{"train", s.Train}, {"valid", s.Valid}, {"test", s.Test}} {
		if err := WriteRecBole(filepath.Join(dir, name+"."+p.suffix+".inter"), p.rows); err != nil {
			return err
		}
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
// appearance, each user's lines in time order. It returns the id maps.
func WriteSASRec(path string, inters []Interaction) (SASRecIDs, error) {
	sorted := append([]Interaction(nil), inters...)
	sortInteractions(sorted)
	var ids SASRecIDs
	itemID := map[int64]int{}
	userID := 0
	err := writeAtomic(path, func(w *bufio.Writer) error {
		for i, in := range sorted {
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

// writeAtomic writes a file through a temporary file in the same folder and renames it into
// place, so a reader never sees a half-written file.
func writeAtomic(path string, fill func(*bufio.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("imagegem: write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("imagegem: write %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fill(w); err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("imagegem: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("imagegem: write %s: %w", path, err)
	}
	return nil
}
