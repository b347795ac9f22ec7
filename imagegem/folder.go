// Folder ingestion: a user's own generations and LoRA files in, a release out.

package imagegem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	genmeta "github.com/imagegem/imagegem-go/imagegem/meta"
	"github.com/imagegem/imagegem-go/internal/atomicfile"
	"github.com/imagegem/imagegem-go/internal/progress"
)

// FolderDir is the folder beside the two tables where [IngestFolder] keeps what it read
// (manifest.json), so that a later run reads only new files.
const FolderDir = "ImageGem-folder"

// FolderDefaultUser is the user named in a folder's release when FolderOptions.User is
// empty.
const FolderDefaultUser = "local"

// maxProblems bounds the problems a FolderReport lists (the counts stay exact).
const maxProblems = 100

// idMask keeps local ids within 53 bits, exact in JSON numbers and float64 columns.
const idMask = 1<<53 - 1

// FolderOptions configure [IngestFolder]. Nil and the zero value mean the defaults.
type FolderOptions struct {
	// LoRAs is a folder of LoRA .safetensors files (searched below, too) that the images'
	// LoRA references are resolved against, by hash first and by name as a fallback. Every
	// LoRA file in it becomes a model version of the release. "" resolves nothing by file.
	LoRAs string
	// Release is a release folder (the public ImageGem release, or any folder [Open]
	// accepts) whose models table resolves the references that no LoRA file does: by file
	// hash (AutoV2, a SHA-256 prefix of 10 or more hex digits, or AutoV1), then by Civitai
	// model version id. A reference resolved there takes the release's version row, ID
	// included, so that the folder's release joins the public one. A1111's "Lora hashes"
	// are AutoV3 (a hash of the tensor payload), which the release's models table does not
	// carry: those resolve through LoRA files or names. "" consults no release.
	Release string
	// User names the user whose images these are; "" means FolderDefaultUser. Only its
	// hash is stored.
	User string
	// HashUser turns User into the userHash column; nil means HashUsername.
	HashUser func(string) string
	// Checkpoints relates an image that used no LoRA to its checkpoint (a model version of
	// type "Checkpoint") instead of leaving it out, as the public release does.
	Checkpoints bool
	// Meta configures the metadata readers; nil means their defaults.
	Meta *genmeta.Options
	// RowsPerFile is passed to the Writer; 0 means DefaultRowsPerFile. Negative values are
	// invalid.
	RowsPerFile int
	// Progress, when set, receives stage "loras" (LoRA files hashed), then "images" (image
	// files read), Done and Total counting files.
	Progress func(Progress)
}

func (o *FolderOptions) resolve() (FolderOptions, error) {
	var r FolderOptions
	if o != nil {
		r = *o
	}
	if r.RowsPerFile < 0 {
		return r, invalid("FolderOptions", "RowsPerFile", "%d is negative", r.RowsPerFile)
	}
	if r.User == "" {
		r.User = FolderDefaultUser
	}
	if r.HashUser == nil {
		r.HashUser = HashUsername
	}
	if r.LoRAs != "" {
		if st, err := os.Stat(r.LoRAs); err != nil || !st.IsDir() {
			return r, invalid("FolderOptions", "LoRAs", "%q is not a folder", r.LoRAs)
		}
	}
	if r.Release != "" {
		if st, err := os.Stat(r.Release); err != nil || !st.IsDir() {
			return r, invalid("FolderOptions", "Release", "%q is not a folder", r.Release)
		}
	}
	return r, nil
}

// FolderReport says what [IngestFolder] read, kept and resolved.
type FolderReport struct {
	// Files counts the image files found; Added those read this run, Unchanged those
	// taken from the last run's manifest, Removed those in the manifest and gone now.
	Files, Added, Unchanged, Removed int
	// Images counts the images in the release; NoGeneration the files with no generation
	// metadata and WithoutLoRA those whose generation used no LoRA (both left out unless
	// FolderOptions.Checkpoints); Unreadable the files that could not be read.
	Images, NoGeneration, WithoutLoRA, Unreadable int
	// LoRAFiles counts the LoRA files of FolderOptions.LoRAs; Versions the model versions
	// in the release.
	LoRAFiles, Versions int
	// LoRARefs counts the images' LoRA references: resolved ByHash to a LoRA file,
	// ByReleaseHash to a version of FolderOptions.Release by file hash, ByVersionID
	// (Civitai's resources; InRelease of them found in FolderOptions.Release with their full
	// row), ByName to a LoRA file, or Unresolved (kept as a version with the name only,
	// listed in UnresolvedNames).
	LoRARefs, ByHash, ByReleaseHash, ByVersionID, InRelease, ByName, Unresolved int
	UnresolvedNames                                                             []string
	// Written is false when nothing changed since the last run and the release was left
	// as it was.
	Written bool
	// Problems lists files that could not be read or parsed, "path: error" (the first 100).
	Problems []string
}

func (r *FolderReport) problem(path string, err error) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, path+": "+err.Error())
	}
}

// folderManifest is ImageGem-folder/manifest.json: what each file held when last read.
type folderManifest struct {
	Format string `json:"format"`
	User   string `json:"userHash"`
	// Release is the absolute path of FolderOptions.Release of the run ("" for none): a run
	// against another release resolves again.
	Release string                 `json:"release,omitempty"`
	Images  map[string]folderImage `json:"images"` // by slash path below the folder
	LoRAs   map[string]folderLoRA  `json:"loras"`  // by slash path below the LoRA folder
}

type folderImage struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"modTime"` // Unix nanoseconds
	SHA256  string `json:"sha256"`
	// Image is the image without its versions (they are resolved on every run).
	Image      *Image         `json:"image,omitempty"`
	LoRAs      []genmeta.LoRA `json:"loras,omitempty"`
	Checkpoint string         `json:"checkpoint,omitempty"`
	ModelHash  string         `json:"modelHash,omitempty"`
	Problem    string         `json:"problem,omitempty"`
	Generation bool           `json:"generation,omitempty"`
}

type folderLoRA struct {
	Size      int64          `json:"size"`
	ModTime   int64          `json:"modTime"`
	Hashes    LoRAFileHashes `json:"hashes"`
	BaseModel string         `json:"baseModel,omitempty"`
	NotLoRA   bool           `json:"notLoRA,omitempty"`
}

const manifestFormat = "imagegem-folder/1"

// imageExts are the files IngestFolder reads.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".webp": true}

// IngestFolder turns a folder of generated images into a release in out, in the exact
// schema of the public one: every image with generation metadata (A1111, ComfyUI, NovelAI,
// InvokeAI, SwarmUI, Civitai; package meta reads them) and the LoRA versions it used, each
// LoRA reference resolved to a file of FolderOptions.LoRAs by its AutoV3/AutoV2/SHA-256/
// AutoV1 hash, then by Civitai model version id, then by name, and reported. Local ids are
// the first 53 bits of the SHA-256 of the image file, of the LoRA file, or of the name.
//
// It is incremental: out keeps a manifest of what each file held, and a second run reads
// only the files that are new or changed (by size and time, then by content), drops those
// gone, and leaves the release untouched when nothing changed. It is atomic: the new tables
// are written beside the old ones and replace them only when complete; on error or cancel
// the old release is as it was. No output replaces an input.
func IngestFolder(ctx context.Context, dir, out string, opts *FolderOptions) (FolderReport, error) {
	var rep FolderReport
	o, err := opts.resolve()
	if err != nil {
		return rep, err
	}
	report := progress.Func(o.Progress)
	absOut, _ := filepath.Abs(out)
	old, err := readManifest(out)
	if err != nil {
		return rep, err
	}
	userHash := o.HashUser(o.User)
	next := folderManifest{Format: manifestFormat, User: userHash, Images: map[string]folderImage{}, LoRAs: map[string]folderLoRA{}}
	if o.Release != "" {
		next.Release, _ = filepath.Abs(o.Release)
	}

	// LoRA files.
	loraPaths, err := listFiles(ctx, o.LoRAs, absOut, map[string]bool{".safetensors": true})
	if err != nil {
		return rep, err
	}
	changed := len(loraPaths) != len(old.LoRAs) || old.User != userHash || old.Release != next.Release
	for i, rel := range loraPaths {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("imagegem: ingest folder: %w", err)
		}
		p := filepath.Join(o.LoRAs, filepath.FromSlash(rel))
		st, err := os.Stat(p)
		if err != nil {
			return rep, fmt.Errorf("imagegem: ingest folder: %w", err)
		}
		if prev, ok := old.LoRAs[rel]; ok && prev.Size == st.Size() && prev.ModTime == st.ModTime().UnixNano() {
			next.LoRAs[rel] = prev
		} else {
			changed = true
			h, md, err := HashLoRAFile(ctx, p)
			if err != nil {
				if ctx.Err() != nil {
					return rep, err
				}
				rep.problem(p, err)
				next.LoRAs[rel] = folderLoRA{Size: st.Size(), ModTime: st.ModTime().UnixNano(), NotLoRA: true}
			} else {
				next.LoRAs[rel] = folderLoRA{Size: st.Size(), ModTime: st.ModTime().UnixNano(), Hashes: h,
					BaseModel: baseModelOf(md), NotLoRA: !looksLoRA(p)}
			}
		}
		report.Report(Progress{Stage: "loras", Done: i + 1, Total: len(loraPaths)})
	}

	// Image files.
	imgPaths, err := listFiles(ctx, dir, absOut, imageExts)
	if err != nil {
		return rep, err
	}
	rep.Files = len(imgPaths)
	bySHA := map[string]folderImage{}
	for _, im := range old.Images {
		bySHA[im.SHA256] = im
	}
	for i, rel := range imgPaths {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("imagegem: ingest folder: %w", err)
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		st, err := os.Stat(p)
		if err != nil {
			return rep, fmt.Errorf("imagegem: ingest folder: %w", err)
		}
		if prev, ok := old.Images[rel]; ok && prev.Size == st.Size() && prev.ModTime == st.ModTime().UnixNano() {
			next.Images[rel] = prev
			rep.Unchanged++
		} else {
			im, err := readFolderImage(p, st, userHash, o.Meta)
			if err != nil {
				return rep, err
			}
			if prev, ok := bySHA[im.SHA256]; ok && prev.Problem == im.Problem {
				prev.Size, prev.ModTime = im.Size, im.ModTime
				if prev.Image != nil {
					prev.Image.URL = im.Image.URL
				}
				im = prev
				rep.Unchanged++
			} else {
				rep.Added++
			}
			changed = true
			next.Images[rel] = im
		}
		report.Report(Progress{Stage: "images", Done: i + 1, Total: len(imgPaths)})
	}
	for rel := range old.Images {
		if _, ok := next.Images[rel]; !ok {
			rep.Removed++
			changed = true
		}
	}

	var known *releaseVersions
	if o.Release != "" {
		if known, err = lookUpRelease(ctx, o.Release, &next); err != nil {
			return rep, err
		}
	}
	images, versions := resolveFolder(&next, &o, known, &rep)
	rep.Images, rep.Versions = len(images), len(versions)
	if !changed && old.Format != "" {
		return rep, nil
	}
	if len(images) == 0 {
		return rep, fmt.Errorf("imagegem: ingest folder %s: no image with generation metadata and a LoRA (%d files, %d without generation, %d without LoRA)", dir, rep.Files, rep.NoGeneration, rep.WithoutLoRA)
	}
	if err := writeFolderRelease(ctx, out, images, versions, &next, &o, old.Format != ""); err != nil {
		return rep, err
	}
	rep.Written = true
	return rep, nil
}

// looksLoRA reports whether a safetensors file's tensor names are a LoRA's (LoRA, LoCon,
// LoKr, LoHa in any naming), not a textual inversion or a checkpoint.
func looksLoRA(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [8]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return false
	}
	n := binary.LittleEndian.Uint64(head[:])
	if n > 100<<20 {
		return false
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return false
	}
	for k := range top {
		l := strings.ToLower(k)
		for _, s := range []string{"lora", "lokr", "hada", "loha", ":down", ":up"} {
			if strings.Contains(l, s) {
				return true
			}
		}
	}
	return false
}

// listFiles returns the slash paths below root of the files with the extensions, sorted,
// leaving out hidden folders and the output folder.
func listFiles(ctx context.Context, root, skip string, exts map[string]bool) ([]string, error) {
	if root == "" {
		return nil, nil
	}
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || sameDir(p, skip)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !exts[strings.ToLower(filepath.Ext(p))] {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("imagegem: ingest folder: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

func sameDir(p, abs string) bool {
	a, err := filepath.Abs(p)
	return err == nil && a == abs
}

func localID(parts ...string) int64 {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return int64(binary.BigEndian.Uint64(h[:8]) & idMask)
}

func idFromHex(s string) int64 {
	b, err := hex.DecodeString(s[:16])
	if err != nil {
		return localID(s)
	}
	return int64(binary.BigEndian.Uint64(b) & idMask)
}

// readFolderImage reads one image file: its content hash and what its metadata says.
func readFolderImage(p string, st os.FileInfo, userHash string, mo *genmeta.Options) (folderImage, error) {
	fi := folderImage{Size: st.Size(), ModTime: st.ModTime().UnixNano()}
	b, err := os.ReadFile(p)
	if err != nil {
		return fi, fmt.Errorf("imagegem: ingest folder: %w", err)
	}
	sum := sha256.Sum256(b)
	fi.SHA256 = hex.EncodeToString(sum[:])
	abs, _ := filepath.Abs(p)
	img := &Image{
		ID:        idFromHex(fi.SHA256),
		URL:       (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(),
		Type:      "image",
		CreatedAt: st.ModTime().UTC().Truncate(time.Second),
		UserHash:  userHash,
	}
	fi.Image = img
	m, err := genmeta.Read(bytes.NewReader(b), mo)
	if err != nil {
		fi.Problem = err.Error()
		return fi, nil
	}
	img.Width, img.Height = int64(m.Width), int64(m.Height)
	g := m.Generation
	if g == nil {
		if m.GenerationErr != nil {
			fi.Problem = m.GenerationErr.Error()
		} else {
			fi.Problem = "no generation metadata"
		}
		return fi, nil
	}
	sampler := g.Sampler
	if g.Format == genmeta.FormatA1111 && g.Scheduler != "" && g.Scheduler != "Automatic" {
		sampler += " " + g.Scheduler
	}
	img.Generation = Generation{
		Seed: g.Seed, Steps: int64(g.Steps), Prompt: g.Prompt, NegativePrompt: g.NegativePrompt,
		Sampler: sampler, CFGScale: g.CFGScale, ClipSkip: int64(g.ClipSkip), DenoisingStrength: g.Denoise,
	}
	if v, ok := g.Param("Hires upscale"); ok {
		img.Generation.HiresUpscale, _ = strconv.ParseFloat(v, 64)
	}
	if v, ok := g.Param("Hires upscaler"); ok {
		img.Generation.HiresUpscaler = v
	}
	if g.Format == genmeta.FormatComfyUI {
		img.Generation.Comfy = m.Raw
	}
	fi.LoRAs = g.LoRAs
	if len(fi.LoRAs) == 0 {
		for _, r := range g.Resources {
			if r.ModelVersionID != 0 && (r.Type == "lora" || r.Type == "lycoris" || r.Type == "locon" || r.Type == "dora") {
				fi.LoRAs = append(fi.LoRAs, genmeta.LoRA{Name: r.Name, Weight: r.Weight, Hash: r.Hash, ModelVersionID: r.ModelVersionID})
			}
		}
	}
	fi.Checkpoint, fi.ModelHash = g.Model, g.ModelHash
	fi.Generation = true
	if m.GenerationErr != nil {
		fi.Problem = m.GenerationErr.Error()
	}
	return fi, nil
}

// readManifest reads out's manifest; a folder with no release gives an empty one, a release
// not made by IngestFolder an error (it is never written over).
func readManifest(out string) (folderManifest, error) {
	var m folderManifest
	b, err := os.ReadFile(filepath.Join(out, FolderDir, "manifest.json"))
	if errors.Is(err, fs.ErrNotExist) {
		for _, d := range []string{ImagesDir, ModelsDir} {
			if _, err := os.Stat(filepath.Join(out, d)); err == nil {
				return m, fmt.Errorf("imagegem: ingest folder: %s holds a release not made from a folder: %w", out, ErrExists)
			}
		}
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("imagegem: ingest folder: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Format != manifestFormat {
		return folderManifest{}, fmt.Errorf("imagegem: ingest folder: %s: %w: not a %s manifest (%v)", filepath.Join(out, FolderDir, "manifest.json"), ErrSchema, manifestFormat, err)
	}
	return m, nil
}

// resolveFolder turns the manifest into the release's images and versions, resolving each
// LoRA reference and counting how.
func resolveFolder(m *folderManifest, o *FolderOptions, known *releaseVersions, rep *FolderReport) ([]Image, []ModelVersion) {
	type loraFile struct {
		rel string
		f   folderLoRA
	}
	var files []loraFile
	versions := map[int64]*ModelVersion{}
	var order []int64
	public := map[int64]bool{} // versions taken from FolderOptions.Release keep their uploader
	addVersion := func(v ModelVersion) int64 {
		if _, ok := versions[v.ID]; !ok {
			versions[v.ID] = &v
			order = append(order, v.ID)
		}
		return v.ID
	}
	fileVersion := func(lf loraFile) int64 {
		name := strings.TrimSuffix(filepath.Base(lf.rel), filepath.Ext(lf.rel))
		id := idFromHex(lf.f.Hashes.SHA256)
		return addVersion(ModelVersion{
			ModelID: id, ModelName: name, ID: id, Name: name, ModelType: "LORA",
			BaseModel: lf.f.BaseModel, PublishedAt: time.Unix(0, lf.f.ModTime).UTC().Truncate(time.Second),
			Files: []ModelFile{{
				ID: id, Name: filepath.Base(lf.rel), SizeKB: float64(lf.f.Size) / 1024, Type: "Model",
				Format: "SafeTensor", Primary: true,
				Hashes: FileHashes{AutoV1: lf.f.Hashes.AutoV1, AutoV2: lf.f.Hashes.AutoV2, SHA256: lf.f.Hashes.SHA256, CRC32: lf.f.Hashes.CRC32},
			}},
		})
	}
	for _, rel := range sortedKeys(m.LoRAs) {
		lf := loraFile{rel, m.LoRAs[rel]}
		if lf.f.NotLoRA {
			continue
		}
		files = append(files, lf)
		fileVersion(lf)
	}
	rep.LoRAFiles = len(files)
	unresolved := map[string]bool{}
	var images []Image
	for _, rel := range sortedKeys(m.Images) {
		fi := m.Images[rel]
		if fi.Problem != "" && !fi.Generation {
			if fi.Problem != "no generation metadata" {
				rep.Unreadable++
				rep.problem(rel, errors.New(fi.Problem))
			}
			rep.NoGeneration++
			continue
		}
		if fi.Problem != "" {
			rep.problem(rel, errors.New(fi.Problem))
		}
		img := *fi.Image
		img.ModelVersionIDs = nil
		seen := map[int64]bool{}
		add := func(id int64) {
			if !seen[id] {
				seen[id] = true
				img.ModelVersionIDs = append(img.ModelVersionIDs, id)
			}
		}
		for _, l := range fi.LoRAs {
			rep.LoRARefs++
			found := false
			if l.Hash != "" {
				for _, lf := range files {
					if lf.f.Hashes.matches(l.Hash) {
						add(fileVersion(lf))
						rep.ByHash++
						found = true
						break
					}
				}
			}
			if !found && l.Hash != "" && known != nil {
				if v, ok := known.byHash[releaseHashKey(l.Hash)]; ok {
					public[v.ID] = true
					add(addVersion(v))
					rep.ByReleaseHash++
					found = true
				}
			}
			if !found && l.ModelVersionID != 0 {
				if v, ok := known.byID(l.ModelVersionID); ok {
					public[v.ID] = true
					add(addVersion(v))
					rep.InRelease++
				} else {
					add(addVersion(ModelVersion{ID: l.ModelVersionID, Name: l.Name, ModelName: l.Name, ModelType: "LORA"}))
				}
				rep.ByVersionID++
				found = true
			}
			if !found && l.Name != "" {
				for _, lf := range files {
					if strings.EqualFold(strings.TrimSuffix(filepath.Base(lf.rel), filepath.Ext(lf.rel)), l.Name) {
						add(fileVersion(lf))
						rep.ByName++
						found = true
						break
					}
				}
			}
			if !found {
				rep.Unresolved++
				unresolved[l.Name] = true
				id := localID("lora", l.Name, l.Hash)
				add(addVersion(ModelVersion{ModelID: id, ModelName: l.Name, ID: id, Name: l.Name, ModelType: "LORA"}))
			}
		}
		if len(img.ModelVersionIDs) == 0 {
			rep.WithoutLoRA++
			if !o.Checkpoints || fi.Checkpoint == "" {
				continue
			}
			id := localID("checkpoint", fi.Checkpoint, fi.ModelHash)
			add(addVersion(ModelVersion{ModelID: id, ModelName: fi.Checkpoint, ID: id, Name: fi.Checkpoint, ModelType: "Checkpoint",
				Files: []ModelFile{{ID: id, Name: fi.Checkpoint, Primary: true, Hashes: FileHashes{AutoV2: strings.ToUpper(fi.ModelHash)}}}}))
		}
		images = append(images, img)
	}
	for n := range unresolved {
		rep.UnresolvedNames = append(rep.UnresolvedNames, n)
	}
	sort.Strings(rep.UnresolvedNames)
	vs := make([]ModelVersion, 0, len(order))
	for _, id := range order {
		v := *versions[id]
		if !public[id] {
			v.UserHash = ""
		}
		vs = append(vs, v)
	}
	return images, vs
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// writeFolderRelease writes the release with its manifest; over an existing one, into a
// scratch folder in out whose three folders then replace the old ones.
func writeFolderRelease(ctx context.Context, out string, images []Image, versions []ModelVersion, m *folderManifest, o *FolderOptions, replace bool) error {
	dst := out
	if replace {
		tmp, err := os.MkdirTemp(out, ".ingest-next-*")
		if err != nil {
			return fmt.Errorf("imagegem: ingest folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		dst = tmp
	}
	w, err := NewWriter(ctx, dst, &WriterOptions{RowsPerFile: o.RowsPerFile})
	if err != nil {
		return err
	}
	defer w.Abort()
	for _, img := range images {
		if err := w.WriteImage(img); err != nil {
			return err
		}
	}
	for _, v := range versions {
		if err := w.WriteModelVersion(v); err != nil {
			return err
		}
	}
	fdir, err := w.AddFolder(FolderDir)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("imagegem: ingest folder: manifest: %w", err)
	}
	if err := atomicfile.WriteFile(ctx, filepath.Join(fdir, "manifest.json"), b, nil); err != nil {
		return fmt.Errorf("imagegem: ingest folder: %w", err)
	}
	if err := w.Close(); err != nil {
		return err
	}
	if !replace {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("imagegem: ingest folder: %w", err)
	}
	// The manifest last: a failure between the moves leaves a release whose manifest is
	// the old one, and the next run reads the changed files again.
	for _, d := range []string{ImagesDir, ModelsDir, FolderDir} {
		if err := atomicfile.ReplaceDir(filepath.Join(dst, d), filepath.Join(out, d)); err != nil {
			return fmt.Errorf("imagegem: ingest folder: %w", err)
		}
	}
	return nil
}

// releaseVersions holds the versions of FolderOptions.Release that a folder's references
// name, looked up once per run.
type releaseVersions struct {
	byHash map[string]ModelVersion // by releaseHashKey of the reference's hash
	ids    map[int64]ModelVersion
}

func (k *releaseVersions) byID(id int64) (ModelVersion, bool) {
	if k == nil {
		return ModelVersion{}, false
	}
	v, ok := k.ids[id]
	return v, ok
}

// releaseHashKey normalises a reference's hash: upper-case hex without spaces.
func releaseHashKey(h string) string { return strings.ToUpper(strings.TrimSpace(h)) }

// lookUpRelease finds in the release at dir the versions that the manifest's references
// name by file hash or by version id.
func lookUpRelease(ctx context.Context, dir string, m *folderManifest) (*releaseVersions, error) {
	rel, err := Open(ctx, dir, nil)
	if err != nil {
		return nil, fmt.Errorf("imagegem: ingest folder: release: %w", err)
	}
	defer rel.Close()
	k := &releaseVersions{byHash: map[string]ModelVersion{}, ids: map[int64]ModelVersion{}}
	hashes, ids := map[string]bool{}, map[int64]bool{}
	for _, fi := range m.Images {
		for _, l := range fi.LoRAs {
			if h := releaseHashKey(l.Hash); len(h) == 8 || len(h) >= 10 {
				hashes[h] = true
			}
			if l.ModelVersionID != 0 {
				ids[l.ModelVersionID] = true
			}
		}
	}
	for _, h := range sortedKeys(hashes) {
		if !isHex(h) {
			continue
		}
		// AutoV1 is 8 hex digits; AutoV2 is the first 10 of the SHA-256; a longer hash is a
		// SHA-256 prefix. The lowest version id wins when several files share a hash.
		vs, err := rel.queryVersions(ctx,
			`(length(?) = 8 AND upper("hashAutoV1") = ?) OR (length(?) >= 10 AND starts_with(upper("hashSHA256"), ?)) OR (length(?) = 10 AND upper("hashAutoV2") = ?)`,
			`"modelVersionId", "fileId"`, h, h, h, h, h, h)
		if err != nil {
			return nil, fmt.Errorf("imagegem: ingest folder: release %s: %w", dir, err)
		}
		if len(vs) > 0 {
			k.byHash[h] = vs[0]
		}
	}
	for id := range ids {
		vs, err := rel.queryVersions(ctx, `"modelVersionId" = ?`, `"fileId"`, id)
		if err != nil {
			return nil, fmt.Errorf("imagegem: ingest folder: release %s: %w", dir, err)
		}
		if len(vs) > 0 {
			k.ids[id] = vs[0]
		}
	}
	return k, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}
