package synth

// Truth is what the generator planted, for tests and demos to check recovery against. It is
// returned by [Generate] and, with Options.Companions, written as synth/truth.json.
type Truth struct {
	Seed   uint64   `json:"seed"`
	Styles []string `json:"styles"`
	Topics []string `json:"topics"`
	// Users are the image makers. Each has a favourite style and topic: with probability
	// PreferredVersionP an image uses LoRA versions of the user's current style (and, half of
	// those times, also of their topic). A drifting user switches to DriftStyle after
	// DriftAt of their images (time-ordered).
	Users []UserTruth `json:"users"`
	// Versions are the LoRA versions, each with one style and topic.
	Versions []VersionTruth `json:"versions"`
	// TopUploader is the uploader with the most versions (ties: the smallest hash).
	TopUploader string `json:"top_uploader"`
	// UnsafeWords are planted in about UnsafePromptP of the prompts; FilteredStats with the
	// prompts that contain them stands in for a Detoxify filter.
	UnsafeWords []string `json:"unsafe_words"`
	// Planted rates and slopes.
	PreferredVersionP float64 `json:"preferred_version_p"`
	UnsafePromptP     float64 `json:"unsafe_prompt_p"`
	// LikeQualitySlope: likeCount ≈ exp(1.5 + LikeQualitySlope·quality) with quality ~ N(0, 1)
	// per image (image_quality.npy among the companions).
	LikeQualitySlope float64 `json:"like_quality_slope"`
	// Companions describes the companion files, when written.
	Companions *CompanionTruth `json:"companions,omitempty"`
}

// UserTruth is one image maker's planted taste.
type UserTruth struct {
	Hash       string `json:"hash"`
	Style      int    `json:"style"`
	Topic      int    `json:"topic"`
	DriftStyle int    `json:"drift_style"` // -1 when the user does not drift
	DriftAt    int    `json:"drift_at"`    // index of the first image in the drift style
	Images     int    `json:"images"`
	Uploader   bool   `json:"uploader"`
}

// VersionTruth is one LoRA version's planted content.
type VersionTruth struct {
	ID        int64  `json:"id"`
	ModelID   int64  `json:"model_id"`
	Uploader  string `json:"uploader"`
	Style     int    `json:"style"`
	Topic     int    `json:"topic"`
	BaseModel string `json:"base_model"`
}

// CompanionTruth describes the companion files in synth/.
type CompanionTruth struct {
	Dim int `json:"dim"`
	// StyleCenters and TopicCenters are the unit vectors that prompt and image embeddings
	// cluster around: a prompt's vector is normalise(0.8·style + 0.5·topic + 0.25·noise), its
	// images' vectors normalise(prompt + 0.15·noise).
	StyleCenters [][]float32 `json:"style_centers"`
	TopicCenters [][]float32 `json:"topic_centers"`
	// LoRAModules are the kohya module names of every LoRA file, with their shapes.
	LoRAModules []ModuleTruth `json:"lora_modules"`
	// StyleDirections[s][m] is the planted rank-1 direction of style s in module m: each LoRA
	// of style s has ΔW_m = Sigma·Up·Downᵀ + noise, with unit Up and Down.
	StyleDirections [][]Rank1 `json:"style_directions"`
	Sigma           float64   `json:"sigma"`
	NoiseScale      float64   `json:"noise_scale"`
}

// ModuleTruth is one LoRA module of the companion files.
type ModuleTruth struct {
	Name string `json:"name"`
	Out  int    `json:"out"`
	In   int    `json:"in"`
}

// Rank1 is a unit rank-1 direction u·vᵀ.
type Rank1 struct {
	Up   []float32 `json:"up"`
	Down []float32 `json:"down"`
}

// Companion file names inside the synth/ folder of a generated release.
const (
	CompanionDir         = "synth"
	TruthFile            = "truth.json"
	PromptsFile          = "prompts.txt"           // unique prompts, one per line
	PromptEmbeddingsFile = "prompt_embeddings.npy" // float32 [prompts, dim], row i ↔ line i
	ImageIDsFile         = "image_ids.npy"         // int64 [images]
	ImageEmbeddingsFile  = "image_embeddings.npy"  // float32 [images, dim], row i ↔ image_ids[i]
	ImageQualityFile     = "image_quality.npy"     // float32 [images]: the hidden quality
	LoRADir              = "loras"                 // loras/<modelVersionId>.safetensors
)
