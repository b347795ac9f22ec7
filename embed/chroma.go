package embed

import "image"

// upsampleChroma returns full-resolution Cb and Cr planes (w*h each). 4:2:0 and 4:2:2
// chroma is interpolated with libjpeg-turbo's "fancy" triangle filter (3/4 of the nearer
// sample, 1/4 of the farther, in each subsampled direction); other ratios use the nearest
// sample.
func upsampleChroma(m *image.YCbCr) (cb, cr []uint8) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cb = make([]uint8, w*h)
	cr = make([]uint8, w*h)
	cw, ch := (w+1)/2, (h+1)/2
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		fancy2x2(cb, m.Cb, m.CStride, w, h, cw, ch)
		fancy2x2(cr, m.Cr, m.CStride, w, h, cw, ch)
	case image.YCbCrSubsampleRatio422:
		fancy2x1(cb, m.Cb, m.CStride, w, h, cw)
		fancy2x1(cr, m.Cr, m.CStride, w, h, cw)
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				o := m.COffset(m.Rect.Min.X+x, m.Rect.Min.Y+y)
				cb[y*w+x], cr[y*w+x] = m.Cb[o], m.Cr[o]
			}
		}
	}
	return cb, cr
}

// fancy2x1 is libjpeg's h2v1 fancy upsampling: out[2i] = (3*c[i] + c[i-1] + 1) >> 2,
// out[2i+1] = (3*c[i] + c[i+1] + 2) >> 2, edges replicated.
func fancy2x1(dst, src []uint8, stride, w, h, cw int) {
	for y := 0; y < h; y++ {
		row := src[y*stride:]
		for x := 0; x < w; x++ {
			i := x / 2
			cur := int(row[i])
			if cw == 1 {
				dst[y*w+x] = uint8(cur)
				continue
			}
			if x%2 == 0 {
				prev := cur
				if i > 0 {
					prev = int(row[i-1])
				}
				dst[y*w+x] = uint8((3*cur + prev + 1) >> 2)
			} else {
				next := cur
				if i+1 < cw {
					next = int(row[i+1])
				}
				dst[y*w+x] = uint8((3*cur + next + 2) >> 2)
			}
		}
	}
}

// fancy2x2 is libjpeg's h2v2 fancy upsampling: a vertical 3:1 blend of the nearer and
// farther chroma rows, then a horizontal 3:1 blend of the column sums with biases 8 and 7.
func fancy2x2(dst, src []uint8, stride, w, h, cw, ch int) {
	colsum := make([]int, cw)
	for y := 0; y < h; y++ {
		i := y / 2
		near := src[i*stride:]
		fi := i - 1
		if y%2 == 1 {
			fi = i + 1
		}
		if fi < 0 {
			fi = 0
		}
		if fi >= ch {
			fi = ch - 1
		}
		far := src[fi*stride:]
		for j := 0; j < cw; j++ {
			colsum[j] = 3*int(near[j]) + int(far[j])
		}
		for x := 0; x < w; x++ {
			j := x / 2
			cur := colsum[j]
			if cw == 1 {
				dst[y*w+x] = uint8((4*cur + 8) >> 4)
				continue
			}
			if x%2 == 0 {
				if j == 0 {
					dst[y*w+x] = uint8((4*cur + 8) >> 4)
				} else {
					dst[y*w+x] = uint8((3*cur + colsum[j-1] + 8) >> 4)
				}
			} else {
				if j == cw-1 {
					dst[y*w+x] = uint8((4*cur + 7) >> 4)
				} else {
					dst[y*w+x] = uint8((3*cur + colsum[j+1] + 7) >> 4)
				}
			}
		}
	}
}
