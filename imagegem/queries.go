package imagegem

import (
	"context"
	"fmt"
	"strings"
	"time"
)

var (
	imageCols = selectList(imagesSchema)
	modelCols = selectList(modelsSchema)
)

func selectList(cols []column) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quoteIdent(c.name)
	}
	return strings.Join(q, ", ")
}

// queryImages runs "SELECT <image columns> FROM images WHERE where ORDER BY order" and gathers
// the long-format rows into Images. order must keep an image's rows together.
func (r *Release) queryImages(ctx context.Context, where, order string, args ...any) ([]Image, error) {
	q := "SELECT " + imageCols + " FROM images WHERE " + where + " ORDER BY " + order
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("imagegem: images: %w", firstLine(err))
	}
	defer rows.Close()
	var out []Image
	for rows.Next() {
		var (
			imageID, versionID, postID, browsing, height, width, seed, steps, clipSkip *int64
			url, hash, typ, prompt, neg, sampler, upscaler, comfy, user                *string
			nsfw                                                                       *bool
			cfg, hires, denoise                                                        *float64
			created                                                                    *time.Time
			cry, laugh, like, dislike, heart, comment                                  *int64
		)
		if err := rows.Scan(&imageID, &versionID, &postID, &url, &hash, &nsfw, &browsing, &typ,
			&height, &width, &seed, &steps, &prompt, &neg, &sampler, &cfg, &clipSkip, &hires,
			&upscaler, &denoise, &created, &comfy, &cry, &laugh, &like, &dislike, &heart,
			&comment, &user); err != nil {
			return nil, fmt.Errorf("imagegem: images: scan: %w", err)
		}
		if n := len(out); n > 0 && out[n-1].ID == i64(imageID) {
			if versionID != nil {
				out[n-1].ModelVersionIDs = append(out[n-1].ModelVersionIDs, *versionID)
			}
			continue
		}
		img := Image{
			ID: i64(imageID), PostID: i64(postID), URL: str(url), BlurHash: str(hash),
			NSFW: boolean(nsfw), BrowsingLevel: BrowsingLevel(i64(browsing)), Type: str(typ),
			Width: i64(width), Height: i64(height),
			Generation: Generation{
				Seed: i64(seed), Steps: i64(steps), Prompt: str(prompt), NegativePrompt: str(neg),
				Sampler: str(sampler), CFGScale: f64(cfg), ClipSkip: i64(clipSkip),
				HiresUpscale: f64(hires), HiresUpscaler: str(upscaler),
				DenoisingStrength: f64NaN(denoise), Comfy: str(comfy),
			},
			CreatedAt: tm(created),
			Reactions: Reactions{Cry: i64(cry), Laugh: i64(laugh), Like: i64(like),
				Dislike: i64(dislike), Heart: i64(heart), Comment: i64(comment)},
			UserHash: str(user),
		}
		if versionID != nil {
			img.ModelVersionIDs = []int64{*versionID}
		}
		out = append(out, img)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("imagegem: images: %w", firstLine(err))
	}
	return out, nil
}

// queryVersions runs "SELECT <model columns> FROM models WHERE where ORDER BY order" and
// gathers the version × file rows into ModelVersions. order must keep a version's rows
// together.
func (r *Release) queryVersions(ctx context.Context, where, order string, args ...any) ([]ModelVersion, error) {
	q := "SELECT " + modelCols + " FROM models WHERE " + where + " ORDER BY " + order
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("imagegem: models: %w", firstLine(err))
	}
	defer rows.Close()
	var out []ModelVersion
	for rows.Next() {
		var (
			modelID, versionID, fileID, modelNSFW, versionNSFW      *int64
			downloads, ratings, up, down                            *int64
			modelName, versionName, fileName, modelDesc, commercial *string
			modelType, cosmetic, tags, baseModel, baseType, avail   *string
			versionDesc, words, fileType, fp, format, pickle, pmsg  *string
			virus, scanned, v1, v2, sha, crc, blake, dl, user       *string
			noCredit, derivatives, different, minor, poi, primary   *bool
			published                                               *time.Time
			sizeKB, rating                                          *float64
		)
		if err := rows.Scan(&modelID, &modelName, &versionID, &versionName, &fileID, &fileName,
			&modelDesc, &noCredit, &commercial, &derivatives, &different, &modelType, &minor,
			&poi, &modelNSFW, &cosmetic, &tags, &published, &baseModel, &baseType, &avail,
			&versionNSFW, &versionDesc, &words, &sizeKB, &fileType, &fp, &format, &pickle, &pmsg,
			&virus, &scanned, &v1, &v2, &sha, &crc, &blake, &dl, &primary, &downloads, &ratings,
			&rating, &up, &down, &user); err != nil {
			return nil, fmt.Errorf("imagegem: models: scan: %w", err)
		}
		file := ModelFile{
			ID: i64(fileID), Name: str(fileName), SizeKB: f64(sizeKB), Type: str(fileType),
			FP: str(fp), Format: str(format), PickleScanResult: str(pickle),
			PickleScanMessage: str(pmsg), VirusScanResult: str(virus), ScannedAt: str(scanned),
			Hashes:      FileHashes{AutoV1: str(v1), AutoV2: str(v2), SHA256: str(sha), CRC32: str(crc), BLAKE3: str(blake)},
			DownloadURL: str(dl), Primary: boolean(primary),
		}
		if n := len(out); n > 0 && out[n-1].ID == i64(versionID) {
			if fileID != nil {
				out[n-1].Files = append(out[n-1].Files, file)
			}
			continue
		}
		v := ModelVersion{
			ModelID: i64(modelID), ModelName: str(modelName), ID: i64(versionID),
			Name: str(versionName), ModelDescription: str(modelDesc),
			AllowNoCredit: boolean(noCredit), AllowCommercialUse: str(commercial),
			AllowDerivatives: boolean(derivatives), AllowDifferentLicense: boolean(different),
			ModelType: str(modelType), Minor: boolean(minor), POI: boolean(poi),
			ModelNSFWLevel: i64(modelNSFW), Cosmetic: str(cosmetic), Tags: SplitList(str(tags)),
			PublishedAt: tm(published), BaseModel: str(baseModel), BaseModelType: str(baseType),
			Availability: str(avail), NSFWLevel: i64(versionNSFW), Description: str(versionDesc),
			TrainedWords: SplitList(str(words)), DownloadCount: i64(downloads),
			RatingCount: i64(ratings), Rating: f64(rating), ThumbsUpCount: i64(up),
			ThumbsDownCount: i64(down), UserHash: str(user),
		}
		if fileID != nil {
			v.Files = []ModelFile{file}
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("imagegem: models: %w", firstLine(err))
	}
	return out, nil
}

// Image returns one image with all its LoRA versions.
func (r *Release) Image(ctx context.Context, id int64) (Image, error) {
	imgs, err := r.queryImages(ctx, `"imageId" = ?`, `"modelVersionId"`, id)
	if err != nil {
		return Image{}, err
	}
	if len(imgs) == 0 {
		return Image{}, fmt.Errorf("imagegem: image %d: %w", id, ErrNotFound)
	}
	return imgs[0], nil
}

// ModelVersion returns one LoRA version with its files.
func (r *Release) ModelVersion(ctx context.Context, id int64) (ModelVersion, error) {
	vs, err := r.queryVersions(ctx, `"modelVersionId" = ?`, `"fileId"`, id)
	if err != nil {
		return ModelVersion{}, err
	}
	if len(vs) == 0 {
		return ModelVersion{}, fmt.Errorf("imagegem: model version %d: %w", id, ErrNotFound)
	}
	return vs[0], nil
}

// ImageVersions returns the LoRA versions an image was made with that the models table
// describes, in increasing ID order. Versions absent from the models table are left out;
// Image(ctx, id).ModelVersionIDs lists them all.
func (r *Release) ImageVersions(ctx context.Context, imageID int64) ([]ModelVersion, error) {
	return r.queryVersions(ctx,
		`"modelVersionId" IN (SELECT "modelVersionId" FROM images WHERE "imageId" = ?)`,
		`"modelVersionId", "fileId"`, imageID)
}

// VersionImages returns the images made with a LoRA version, oldest first. Each image lists
// all its versions, not only this one. limit ≤ 0 means all.
func (r *Release) VersionImages(ctx context.Context, versionID int64, limit int) ([]Image, error) {
	sub := `SELECT "imageId" FROM images WHERE "modelVersionId" = ?`
	if limit > 0 {
		sub = fmt.Sprintf(`SELECT "imageId" FROM images WHERE "modelVersionId" = ? ORDER BY "createdAt", "imageId" LIMIT %d`, limit)
	}
	return r.queryImages(ctx, `"imageId" IN (`+sub+`)`, `"createdAt", "imageId", "modelVersionId"`, versionID)
}

// UserImages returns the images a user made, in time order (oldest first).
func (r *Release) UserImages(ctx context.Context, userHash string) ([]Image, error) {
	return r.queryImages(ctx, `"userHash" = ?`, `"createdAt", "imageId", "modelVersionId"`, userHash)
}

// UserModels returns the LoRA versions a user uploaded, in time order of publication.
func (r *Release) UserModels(ctx context.Context, userHash string) ([]ModelVersion, error) {
	return r.queryVersions(ctx, `"userHash" = ?`, `"publishedAt", "modelVersionId", "fileId"`, userHash)
}

// Uploader is a user who uploaded LoRAs, with what they uploaded and made.
type Uploader struct {
	UserHash string
	Models   int64 // distinct modelId
	Versions int64 // distinct modelVersionId (LoRA checkpoints)
	Images   int64 // distinct images the uploader made (images table)
}

// Uploaders returns every uploader, most LoRA versions first (ties by userHash).
func (r *Release) Uploaders(ctx context.Context) ([]Uploader, error) {
	q := `WITH u AS (
	  SELECT "userHash" AS h, count(DISTINCT "modelId") AS models, count(DISTINCT "modelVersionId") AS versions
	  FROM models WHERE "userHash" IS NOT NULL GROUP BY 1),
	i AS (SELECT "userHash" AS h, count(DISTINCT "imageId") AS images FROM images
	  WHERE "userHash" IN (SELECT h FROM u) GROUP BY 1)
	SELECT u.h, u.models, u.versions, coalesce(i.images, 0) FROM u LEFT JOIN i ON u.h = i.h
	ORDER BY u.versions DESC, u.h`
	rows, err := r.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("imagegem: uploaders: %w", firstLine(err))
	}
	defer rows.Close()
	var out []Uploader
	for rows.Next() {
		var u Uploader
		if err := rows.Scan(&u.UserHash, &u.Models, &u.Versions, &u.Images); err != nil {
			return nil, fmt.Errorf("imagegem: uploaders: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// BaseModelShare is one base model's share of the LoRA versions.
type BaseModelShare struct {
	BaseModel string
	Versions  int64
	Share     float64 // Versions / all versions
}

// BaseModels returns the base-model breakdown of the LoRA versions, largest first (paper
// §3.1: 41% SD 1.5, 31% Pony, 12% SDXL 1.0, 9% Flux.1 in the real release). A version with
// no base model is counted under "".
func (r *Release) BaseModels(ctx context.Context) ([]BaseModelShare, error) {
	q := `WITH v AS (SELECT "modelVersionId", any_value(coalesce("baseModel", '')) AS b FROM models GROUP BY 1)
	SELECT b, count(*) AS n, count(*) / sum(count(*)) OVER () FROM v GROUP BY b ORDER BY n DESC, b`
	rows, err := r.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("imagegem: base models: %w", firstLine(err))
	}
	defer rows.Close()
	var out []BaseModelShare
	for rows.Next() {
		var s BaseModelShare
		if err := rows.Scan(&s.BaseModel, &s.Versions, &s.Share); err != nil {
			return nil, fmt.Errorf("imagegem: base models: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
