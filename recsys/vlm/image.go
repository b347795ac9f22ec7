package vlm

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"os"
	"strings"

	_ "image/gif" // decoders for the formats of the release's images
	_ "image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// minImageSide is the smallest longest side an image is shrunk to before it is refused.
const minImageSide = 64

// jpegQuality is the quality of re-encoded (shrunk) images.
const jpegQuality = 90

// Image is one image of a request: a local file (Path), bytes already in memory (Data), or a
// URL the server fetches itself (URL, http(s) or data:). Exactly one is set.
type Image struct {
	Path string
	Data []byte
	URL  string
}

// ImageFile is the Image of a local file.
func ImageFile(path string) Image { return Image{Path: path} }

// ImageURL is the Image of a URL.
func ImageURL(url string) Image { return Image{URL: url} }

// imageURL returns the URL sent for an image: a data URL for local images (shrunk when over
// the limits), the URL itself otherwise.
func (c *Client) imageURL(ctx context.Context, im Image) (string, error) {
	set := 0
	for _, b := range []bool{im.Path != "", im.Data != nil, im.URL != ""} {
		if b {
			set++
		}
	}
	if set != 1 {
		return "", fmt.Errorf("%w: exactly one of Path, Data and URL must be set", ErrImage)
	}
	if im.URL != "" {
		return im.URL, nil
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	data, name := im.Data, "image data"
	if im.Path != "" {
		name = im.Path
		var err error
		if data, err = os.ReadFile(im.Path); err != nil {
			return "", fmt.Errorf("%w: %v", ErrImage, err)
		}
	}
	data, mime, err := fitImage(data, name, c.opts.MaxImageBytes, c.opts.MaxImageSide, c.opts.RefuseOversize)
	if err != nil {
		return "", err
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data), nil
}

// fitImage returns the image's bytes and MIME type, shrunk when it is over maxBytes or its
// longest side is over maxSide (or an error wrapping ErrImageTooLarge when refuse is set).
func fitImage(data []byte, name string, maxBytes int64, maxSide int, refuse bool) ([]byte, string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrImage, name, err)
	}
	mime := mimeOf(format, data)
	side := max(cfg.Width, cfg.Height)
	if int64(len(data)) <= maxBytes && side <= maxSide {
		return data, mime, nil
	}
	if refuse {
		return nil, "", fmt.Errorf("%w: %s: %d bytes, %d×%d pixels (limits %d bytes, %d pixels a side)", ErrImageTooLarge, name, len(data), cfg.Width, cfg.Height, maxBytes, maxSide)
	}
	// Decoding allocates 4 bytes a pixel: refuse what would not fit in memory sanely.
	if int64(cfg.Width)*int64(cfg.Height) > 1<<28 {
		return nil, "", fmt.Errorf("%w: %s: %d×%d pixels is too large to shrink", ErrImageTooLarge, name, cfg.Width, cfg.Height)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrImage, name, err)
	}
	target := min(side, maxSide)
	for target >= minImageSide {
		out, err := shrink(src, target)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %s: %v", ErrImage, name, err)
		}
		if int64(len(out)) <= maxBytes {
			return out, "image/jpeg", nil
		}
		target /= 2
	}
	return nil, "", fmt.Errorf("%w: %s: no JPEG of it under %d bytes with a side of %d pixels or more", ErrImageTooLarge, name, maxBytes, minImageSide)
}

// shrink scales src so that its longest side is side (Catmull-Rom, on white for images with
// transparency) and encodes it as JPEG.
func shrink(src image.Image, side int) ([]byte, error) {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w >= h {
		h = max(1, int(int64(h)*int64(side)/int64(w)))
		w = side
	} else {
		w = max(1, int(int64(w)*int64(side)/int64(h)))
		h = side
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: jpegQuality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func mimeOf(format string, data []byte) string {
	switch format {
	case "jpeg", "png", "gif", "webp":
		return "image/" + format
	}
	if m := http.DetectContentType(data); strings.HasPrefix(m, "image/") {
		return m
	}
	return "application/octet-stream"
}
