package imagegem

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestImageGathersLongFormatRows(t *testing.T) {
	r := openFixture(t)
	ctx := context.Background()
	img, err := r.Image(ctx, 12)
	require.NoError(t, err)
	assert.Equal(t, []int64{100, 101, 102}, img.ModelVersionIDs)
	assert.Equal(t, "u4", img.UserHash)
	assert.Equal(t, int64(12), img.Reactions.Like)
	assert.True(t, math.IsNaN(img.Generation.DenoisingStrength), "missing denoising strength reads as NaN")
	assert.Equal(t, "2024-04-01 12:03:00", img.CreatedAt.Format(TimeLayout))

	_, err = r.Image(ctx, 424242)
	assert.True(t, errors.Is(err, ErrNotFound))
}

func TestImageVersionsSkipsUnknown(t *testing.T) {
	r := openFixture(t)
	vs, err := r.ImageVersions(context.Background(), 15)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, int64(103), vs[0].ID)
}

func TestModelVersionGathersFiles(t *testing.T) {
	r := openFixture(t)
	v, err := r.ModelVersion(context.Background(), 100)
	require.NoError(t, err)
	require.Len(t, v.Files, 2)
	assert.Equal(t, []string{"car", "vehicle"}, v.Tags)
	pf, ok := v.PrimaryFile()
	require.True(t, ok)
	assert.Equal(t, int64(1000), pf.ID)
}

func TestVersionImagesInTimeOrder(t *testing.T) {
	r := openFixture(t)
	ctx := context.Background()
	imgs, err := r.VersionImages(ctx, 100, 0)
	require.NoError(t, err)
	ids := []int64{}
	for _, im := range imgs {
		ids = append(ids, im.ID)
	}
	assert.Equal(t, []int64{11, 12, 10}, ids, "created at minutes 1, 3, 5")
	assert.Equal(t, []int64{100, 101, 102}, imgs[1].ModelVersionIDs, "all versions of each image")

	imgs, err = r.VersionImages(ctx, 100, 2)
	require.NoError(t, err)
	assert.Len(t, imgs, 2)
}

func TestUserImagesAndModels(t *testing.T) {
	r := openFixture(t)
	ctx := context.Background()
	imgs, err := r.UserImages(ctx, "u5")
	require.NoError(t, err)
	require.Len(t, imgs, 2)
	assert.Equal(t, int64(13), imgs[0].ID)
	assert.Equal(t, int64(15), imgs[1].ID)

	vs, err := r.UserModels(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, vs, 3)
	assert.Equal(t, []int64{100, 101, 102}, []int64{vs[0].ID, vs[1].ID, vs[2].ID})
}

func TestUploadersAndBaseModels(t *testing.T) {
	r := openFixture(t)
	ctx := context.Background()
	ups, err := r.Uploaders(ctx)
	require.NoError(t, err)
	assert.Equal(t, []Uploader{
		{UserHash: "u1", Models: 2, Versions: 3, Images: 1},
		{UserHash: "u3", Models: 2, Versions: 2, Images: 0},
		{UserHash: "u2", Models: 1, Versions: 1, Images: 1},
	}, ups)

	bm, err := r.BaseModels(ctx)
	require.NoError(t, err)
	require.Len(t, bm, 4)
	assert.Equal(t, "SD 1.5", bm[0].BaseModel)
	assert.Equal(t, int64(3), bm[0].Versions)
	assert.InDelta(t, 0.5, bm[0].Share, 1e-12)
}

func TestQueryEscapeHatch(t *testing.T) {
	r := openFixture(t)
	rows, err := r.Query(context.Background(), `SELECT count(*) FROM images JOIN models USING ("modelVersionId") WHERE "baseModel" = ?`, "SD 1.5")
	require.NoError(t, err)
	defer rows.Close()
	require.True(t, rows.Next())
	var n int64
	require.NoError(t, rows.Scan(&n))
	// Rows joining SD 1.5 versions: 100 (images 10, 11, 12; two files each → 6),
	// 101 (10, 12 → 2), 104 (14 → 1).
	assert.Equal(t, int64(9), n)
}
