package imagegem

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
)

// LoRA file hashes as Civitai lists them and as the A1111 web UI writes them into images.
const (
	// autoV1Offset and autoV1Length: AutoV1 hashes the 64 KiB at 1 MiB (the web UI's old
	// model hash, kohya sd-scripts' model_hash), 8 hex digits.
	autoV1Offset, autoV1Length = 0x100000, 0x10000
	// autoV2Digits: AutoV2 is the first 10 hex digits of the file's SHA-256.
	autoV2Digits = 10
	// autoV3Digits: AutoV3 (A1111's "Lora hashes") is the first 12 hex digits of the
	// SHA-256 of the tensor data, the bytes after the safetensors header.
	autoV3Digits = 12
)

// LoRAFileHashes are the hashes of one LoRA file, upper-case hex as Civitai lists them.
type LoRAFileHashes struct {
	AutoV1, AutoV2, AutoV3, SHA256, CRC32 string
}

// HashLoRAFile computes the hashes of a .safetensors file in one pass (the AutoV3 one
// starts after the header, whose length the first 8 bytes give).
func HashLoRAFile(ctx context.Context, path string) (LoRAFileHashes, map[string]string, error) {
	var h LoRAFileHashes
	f, err := os.Open(path)
	if err != nil {
		return h, nil, fmt.Errorf("imagegem: lora: %w", err)
	}
	defer f.Close()
	var head [8]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return h, nil, fmt.Errorf("imagegem: lora %s: header length: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(head[:])
	st, err := f.Stat()
	if err != nil {
		return h, nil, fmt.Errorf("imagegem: lora: %w", err)
	}
	if n > uint64(st.Size())-8 || n > 100<<20 {
		return h, nil, fmt.Errorf("imagegem: lora %s: header length %d at offset 0 past the %d-byte file", path, n, st.Size())
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return h, nil, fmt.Errorf("imagegem: lora %s: header: %w", path, err)
	}
	var meta map[string]string
	var top map[string]json.RawMessage
	if json.Unmarshal(header, &top) == nil {
		_ = json.Unmarshal(top["__metadata__"], &meta)
	}
	full, data, crc := sha256.New(), sha256.New(), crc32.NewIEEE()
	full.Write(head[:])
	full.Write(header)
	crc.Write(head[:])
	crc.Write(header)
	v1 := sha256.New()
	pos := int64(8 + n)
	addV1 := func(b []byte, at int64) {
		lo, hi := max(at, autoV1Offset), min(at+int64(len(b)), autoV1Offset+autoV1Length)
		if lo < hi {
			v1.Write(b[lo-at : hi-at])
		}
	}
	addV1(head[:], 0)
	addV1(header, 8)
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return h, nil, fmt.Errorf("imagegem: lora: %w", err)
		}
		k, err := f.Read(buf)
		if k > 0 {
			full.Write(buf[:k])
			data.Write(buf[:k])
			crc.Write(buf[:k])
			addV1(buf[:k], pos)
			pos += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return h, nil, fmt.Errorf("imagegem: lora %s: %w", path, err)
		}
	}
	up := func(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }
	h.SHA256 = up(full.Sum(nil))
	h.AutoV2 = h.SHA256[:autoV2Digits]
	h.AutoV3 = up(data.Sum(nil))[:autoV3Digits]
	h.AutoV1 = up(v1.Sum(nil))[:8]
	h.CRC32 = fmt.Sprintf("%08X", crc.Sum32())
	return h, meta, nil
}

// matches reports whether a hash written in an image (any case, any of the lengths the
// tools write) names this file: a prefix of the SHA-256 (AutoV2 and longer) or of the tensor
// data's SHA-256 (AutoV3), or the AutoV1.
func (h LoRAFileHashes) matches(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) < 8 {
		return false
	}
	if len(s) == 8 && s == h.AutoV1 {
		return true
	}
	if len(s) >= autoV2Digits && strings.HasPrefix(h.SHA256, s) {
		return true
	}
	return len(s) <= autoV3Digits && len(s) >= autoV2Digits && strings.HasPrefix(h.AutoV3, s)
}

// baseModelOf names the base model of a LoRA from its training metadata, in Civitai's
// names ("SD 1.5", "SDXL 1.0", "Flux.1 D"); "" when the metadata does not say.
func baseModelOf(meta map[string]string) string {
	v := strings.ToLower(meta["ss_base_model_version"])
	arch := strings.ToLower(meta["modelspec.architecture"])
	switch {
	case strings.HasPrefix(arch, "stable-diffusion-xl"), strings.HasPrefix(v, "sdxl"):
		return "SDXL 1.0"
	case strings.HasPrefix(arch, "flux-1-schnell"):
		return "Flux.1 S"
	case strings.HasPrefix(arch, "flux-1"), strings.HasPrefix(v, "flux"):
		return "Flux.1 D"
	case strings.HasPrefix(arch, "stable-diffusion-v2"), strings.HasPrefix(v, "sd_v2"), meta["ss_v2"] == "True":
		return "SD 2.1"
	case strings.HasPrefix(arch, "stable-diffusion-v1"), strings.HasPrefix(v, "sd_v1"), v == "sd_1.5", meta["ss_v2"] == "False":
		return "SD 1.5"
	}
	return ""
}
