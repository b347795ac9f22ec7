package embed

import "math"

// PIL's resampling (libImaging/Resample.c) with the bicubic filter, reproduced in integer
// arithmetic so that outputs equal PIL's: separable passes (horizontal first), filter
// support widened by the scale factor when shrinking (antialiasing), coefficients
// normalised to sum 1 and rounded to 22-bit fixed point, each pass rounded and clipped to
// 8 bits.
const (
	// bicubicA is the "a" of the Keys cubic kernel PIL uses (-0.5).
	bicubicA = -0.5
	// bicubicSupport is the kernel's radius in source pixels at scale 1.
	bicubicSupport = 2.0
	// precisionBits is PIL's PRECISION_BITS = 32 - 8 - 2.
	precisionBits = 32 - 8 - 2
)

func bicubic(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return ((bicubicA+2)*x-(bicubicA+3))*x*x + 1
	}
	if x < 2 {
		return (((x-5)*x+8)*x - 4) * bicubicA
	}
	return 0
}

// resampleCoeffs is PIL's precompute_coeffs followed by normalize_coeffs_8bpc for mapping
// the source span [in0, in1) of an axis of length inSize onto outSize samples.
func resampleCoeffs(inSize int, in0, in1 float64, outSize int) (ksize int, bounds []int, kk []int32) {
	ksize, bounds, kf := resampleCoeffsFloat(inSize, in0, in1, outSize)
	kk = make([]int32, len(kf))
	for i, k := range kf {
		v := k * (1 << precisionBits)
		if v < 0 {
			kk[i] = int32(-0.5 + v)
		} else {
			kk[i] = int32(0.5 + v)
		}
	}
	return ksize, bounds, kk
}

// resampleCoeffsFloat is PIL's precompute_coeffs: normalised float coefficients, which
// the 32-bit (mode I) passes use directly.
func resampleCoeffsFloat(inSize int, in0, in1 float64, outSize int) (ksize int, bounds []int, kk []float64) {
	scale := (in1 - in0) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := bicubicSupport * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, outSize*2)
	kk = make([]float64, outSize*ksize)
	k := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		center := in0 + (float64(xx)+0.5)*scale
		ss := 1 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := bicubic((float64(x+xmin) - center + 0.5) * ss)
			k[x] = w
			ww += w
		}
		for x := 0; x < xmax; x++ {
			if ww != 0 {
				k[x] /= ww
			}
			kk[xx*ksize+x] = k[x]
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return ksize, bounds, kk
}

func clip8(v int64) uint8 {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> precisionBits)
}

// resizeBicubic is Image.resize(size, BICUBIC) on an 8-bit picture of 1 to 4 channels
// (box = the whole image). Alpha pictures must be premultiplied by the caller, as PIL does.
func resizeBicubic(p *picture, w, h int) *picture {
	if w == p.w && h == p.h {
		q := *p
		q.pix = append([]uint8(nil), p.pix...)
		return &q
	}
	c := p.mode.channels()
	needH := w != p.w
	needV := h != p.h
	kh, bh, kkh := resampleCoeffs(p.w, 0, float64(p.w), w)
	kv, bv, kkv := resampleCoeffs(p.h, 0, float64(p.h), h)
	src := p
	if needH {
		first := bv[0]
		last := bv[2*h-2] + bv[2*h-1]
		for i := 0; i < h; i++ {
			bv[2*i] -= first
		}
		tmp := &picture{mode: p.mode, w: w, h: last - first, palette: p.palette}
		tmp.pix = make([]uint8, tmp.w*tmp.h*c)
		for yy := 0; yy < tmp.h; yy++ {
			row := p.pix[(yy+first)*p.w*c:]
			out := tmp.pix[yy*w*c:]
			for xx := 0; xx < w; xx++ {
				xmin, xmax := bh[2*xx], bh[2*xx+1]
				k := kkh[xx*kh:]
				for ch := 0; ch < c; ch++ {
					ss := int64(1) << (precisionBits - 1)
					for x := 0; x < xmax; x++ {
						ss += int64(row[(x+xmin)*c+ch]) * int64(k[x])
					}
					out[xx*c+ch] = clip8(ss)
				}
			}
		}
		src = tmp
	}
	if !needV {
		return src
	}
	out := &picture{mode: p.mode, w: w, h: h, palette: p.palette}
	out.pix = make([]uint8, w*h*c)
	for yy := 0; yy < h; yy++ {
		ymin, ymax := bv[2*yy], bv[2*yy+1]
		k := kkv[yy*kv:]
		o := out.pix[yy*w*c:]
		for xx := 0; xx < w*c; xx++ {
			ss := int64(1) << (precisionBits - 1)
			for y := 0; y < ymax; y++ {
				ss += int64(src.pix[(y+ymin)*w*c+xx]) * int64(k[y])
			}
			o[xx] = clip8(ss)
		}
	}
	return out
}

// resizeNearest is PIL's nearest-neighbour resize (an affine transform in 16.16 fixed
// point sampling at pixel centres), which Image.resize uses for palette images whatever
// filter is asked for.
func resizeNearest(p *picture, w, h int) *picture {
	c := p.mode.channels()
	out := &picture{mode: p.mode, w: w, h: h, palette: p.palette}
	out.pix = make([]uint8, w*h*c)
	fix := func(v float64) int64 { return int64(math.Floor(v*65536 + 0.5)) }
	sx := float64(p.w) / float64(w)
	sy := float64(p.h) / float64(h)
	a0, a2 := fix(sx), fix(sx*0.5)
	a4, a5 := fix(sy), fix(sy*0.5)
	yy := a5
	for y := 0; y < h; y++ {
		yin := int(yy >> 16)
		xx := a2
		for x := 0; x < w; x++ {
			xin := int(xx >> 16)
			if xin >= 0 && xin < p.w && yin >= 0 && yin < p.h {
				copy(out.pix[(y*w+x)*c:(y*w+x+1)*c], p.pix[(yin*p.w+xin)*c:])
			}
			xx += a0
		}
		yy += a4
	}
	return out
}

// mulDiv255 is PIL's MULDIV255: round(a*b/255) in integers.
func mulDiv255(a, b uint8) uint8 {
	t := uint32(a)*uint32(b) + 128
	return uint8(((t >> 8) + t) >> 8)
}

// resize is Image.resize(size, BICUBIC) for any mode: palette pictures use nearest
// neighbour, RGBA pictures are premultiplied (RGBa) around the resampling and divided back.
func resize(p *picture, w, h int) *picture {
	switch p.mode {
	case modeI:
		return resizeInt32(p, w, h)
	case modeP:
		if w == p.w && h == p.h {
			return p
		}
		return resizeNearest(p, w, h)
	case modeRGBA:
		pre := &picture{mode: modeRGBA, w: p.w, h: p.h, pix: make([]uint8, len(p.pix))}
		for i := 0; i < len(p.pix); i += 4 {
			a := p.pix[i+3]
			pre.pix[i] = mulDiv255(p.pix[i], a)
			pre.pix[i+1] = mulDiv255(p.pix[i+1], a)
			pre.pix[i+2] = mulDiv255(p.pix[i+2], a)
			pre.pix[i+3] = a
		}
		out := resizeBicubic(pre, w, h)
		for i := 0; i < len(out.pix); i += 4 {
			a := uint32(out.pix[i+3])
			if a == 0 || a == 255 {
				continue
			}
			for k := 0; k < 3; k++ {
				v := 255 * uint32(out.pix[i+k]) / a
				if v > 255 {
					v = 255
				}
				out.pix[i+k] = uint8(v)
			}
		}
		return out
	default:
		return resizeBicubic(p, w, h)
	}
}

// crop returns the w×h window at (left, top); pixels outside the source are zero, as in
// PIL's crop.
func crop(p *picture, left, top, w, h int) *picture {
	if p.mode == modeI {
		out := newPicture(modeI, w, h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if sy, sx := top+y, left+x; sy >= 0 && sy < p.h && sx >= 0 && sx < p.w {
					out.pix32[y*w+x] = p.pix32[sy*p.w+sx]
				}
			}
		}
		return out
	}
	c := p.mode.channels()
	out := &picture{mode: p.mode, w: w, h: h, palette: p.palette, pix: make([]uint8, w*h*c)}
	for y := 0; y < h; y++ {
		sy := top + y
		if sy < 0 || sy >= p.h {
			continue
		}
		for x := 0; x < w; x++ {
			sx := left + x
			if sx < 0 || sx >= p.w {
				continue
			}
			copy(out.pix[(y*w+x)*c:(y*w+x+1)*c], p.pix[(sy*p.w+sx)*c:])
		}
	}
	return out
}

// toRGB is Image.convert("RGB"): grey replicated (32-bit grey clipped to 0..255), palette
// looked up, alpha dropped (not composited), CMYK by PIL's cmyk2rgb.
func toRGB(p *picture) *picture {
	if p.mode == modeRGB {
		return p
	}
	out := newPicture(modeRGB, p.w, p.h)
	n := p.w * p.h
	for i := 0; i < n; i++ {
		o := out.pix[3*i : 3*i+3]
		switch p.mode {
		case modeL:
			o[0], o[1], o[2] = p.pix[i], p.pix[i], p.pix[i]
		case modeI:
			v := clamp8(p.pix32[i])
			o[0], o[1], o[2] = v, v, v
		case modeP:
			c := p.palette[p.pix[i]]
			o[0], o[1], o[2] = c[0], c[1], c[2]
		case modeRGBA:
			copy(o, p.pix[4*i:4*i+3])
		case modeCMYK:
			nk := 255 - p.pix[4*i+3]
			for k := 0; k < 3; k++ {
				o[k] = nk - mulDiv255(p.pix[4*i+k], nk)
			}
		}
	}
	return out
}

// roundUp is PIL's ROUND_UP: round half away from zero.
func roundUp(f float64) int32 {
	if f >= 0 {
		return int32(math.Floor(f + 0.5))
	}
	return -int32(math.Floor(math.Abs(f) + 0.5))
}

// resizeInt32 is PIL's bicubic resampling of a mode I picture: the same separable passes
// with float coefficients, each pass rounded half away from zero.
func resizeInt32(p *picture, w, h int) *picture {
	if w == p.w && h == p.h {
		q := *p
		q.pix32 = append([]int32(nil), p.pix32...)
		return &q
	}
	kh, bh, kkh := resampleCoeffsFloat(p.w, 0, float64(p.w), w)
	kv, bv, kkv := resampleCoeffsFloat(p.h, 0, float64(p.h), h)
	src := p
	if w != p.w {
		first := bv[0]
		last := bv[2*h-2] + bv[2*h-1]
		for i := 0; i < h; i++ {
			bv[2*i] -= first
		}
		tmp := newPicture(modeI, w, last-first)
		for yy := 0; yy < tmp.h; yy++ {
			row := p.pix32[(yy+first)*p.w:]
			for xx := 0; xx < w; xx++ {
				xmin, xmax := bh[2*xx], bh[2*xx+1]
				ss := 0.0
				for x := 0; x < xmax; x++ {
					ss += float64(row[x+xmin]) * kkh[xx*kh+x]
				}
				tmp.pix32[yy*w+xx] = roundUp(ss)
			}
		}
		src = tmp
	}
	if h == p.h {
		return src
	}
	out := newPicture(modeI, w, h)
	for yy := 0; yy < h; yy++ {
		ymin, ymax := bv[2*yy], bv[2*yy+1]
		for xx := 0; xx < w; xx++ {
			ss := 0.0
			for y := 0; y < ymax; y++ {
				ss += float64(src.pix32[(y+ymin)*w+xx]) * kkv[yy*kv+y]
			}
			out.pix32[yy*w+xx] = roundUp(ss)
		}
	}
	return out
}
