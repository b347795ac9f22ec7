package embed

// gifFirstPalette returns the colour table that applies to a GIF's first frame (its local
// table, else the global one) as stored in the file. Go's decoder replaces the transparent
// entry by transparent black; PIL keeps the stored colour, and convert("RGB") shows it.
func gifFirstPalette(data []byte) [][3]uint8 {
	const header = 6 + 7
	if len(data) < header {
		return nil
	}
	table := func(at, packed int) ([][3]uint8, int) {
		n := 1 << ((packed & 7) + 1)
		if at+3*n > len(data) {
			return nil, -1
		}
		out := make([][3]uint8, n)
		for i := range out {
			copy(out[i][:], data[at+3*i:at+3*i+3])
		}
		return out, at + 3*n
	}
	var global [][3]uint8
	pos := header
	if packed := int(data[10]); packed&0x80 != 0 {
		if global, pos = table(pos, packed); pos < 0 {
			return nil
		}
	}
	for pos < len(data) {
		switch data[pos] {
		case 0x21: // extension: label, then sub-blocks
			pos += 2
			for pos < len(data) && data[pos] != 0 {
				pos += int(data[pos]) + 1
			}
			pos++
		case 0x2c: // image descriptor
			if pos+10 > len(data) {
				return global
			}
			if packed := int(data[pos+9]); packed&0x80 != 0 {
				if local, next := table(pos+10, packed); next > 0 {
					return local
				}
			}
			return global
		default:
			return global
		}
	}
	return global
}
