package synth

// Vocabulary of the synthetic prompts. Topics include the subsets the paper curates
// preference pairs for (cars, dogs and scenery words among them).
var (
	styleNames   = []string{"anime", "photorealistic", "watercolor", "oil painting", "pixel art", "cyberpunk", "3d render", "ink sketch"}
	stylePhrases = [][]string{
		{"anime style", "cel shading", "manga illustration"},
		{"photorealistic", "35mm photo", "hyperrealistic photograph"},
		{"watercolor painting", "soft watercolor wash", "watercolor on paper"},
		{"oil painting", "impasto oil on canvas", "classical oil painting"},
		{"pixel art", "16-bit pixel art", "retro sprite art"},
		{"cyberpunk style", "neon cyberpunk", "synthwave cyberpunk"},
		{"3d render", "octane render", "unreal engine render"},
		{"ink sketch", "pen and ink drawing", "charcoal sketch"},
	}
	topicNames   = []string{"cars", "dogs", "cats", "scenery", "portraits", "food", "castles", "space", "flowers", "robots"}
	topicPhrases = [][]string{
		{"a red sports car", "a vintage car on a coastal road", "a race car drifting", "a muscle car at night"},
		{"a golden retriever puppy", "a dog running on the beach", "a husky in the snow", "a corgi wearing a scarf"},
		{"a sleepy cat on a windowsill", "a black cat with green eyes", "a kitten playing with yarn", "a cat in a garden"},
		{"a mountain landscape at sunset", "a misty forest lake", "ocean waves under a stormy sky", "a field of wildflowers and hills"},
		{"portrait of a young woman", "portrait of an old fisherman", "close-up portrait of a knight", "portrait of a smiling child"},
		{"a bowl of ramen", "a stack of pancakes with berries", "a sushi platter", "a slice of chocolate cake"},
		{"a castle on a cliff", "a ruined castle in the fog", "a fairytale castle at dawn", "a castle over a river"},
		{"an astronaut floating in space", "a nebula with distant planets", "a space station orbiting earth", "a rocket launch"},
		{"a bouquet of roses", "sunflowers in a vase", "cherry blossoms in spring", "a field of tulips"},
		{"a giant mech in a city", "a cute robot companion", "a rusty robot in the desert", "an android in a lab"},
	}
	adjectives = []string{"beautiful", "dramatic", "serene", "vibrant", "moody", "whimsical", "epic", "cozy", "mysterious", "elegant",
		"gloomy", "luminous", "intricate", "minimalist", "surreal", "nostalgic", "majestic", "playful", "ethereal", "gritty"}
	details = []string{"golden hour lighting", "volumetric light", "rim lighting", "soft shadows", "bokeh background", "rain reflections",
		"wide angle", "depth of field", "high contrast", "pastel colors", "dynamic pose", "centered composition", "foggy atmosphere",
		"studio lighting", "cinematic composition", "sharp focus", "film grain", "backlit", "overcast sky", "night scene"}
	qualityWords = []string{"masterpiece, best quality", "highly detailed", "ultra detailed, 8k", "award winning", "trending on artstation"}
	unsafeWords  = []string{"gore", "bloodbath"}
	samplers     = []string{"Euler a", "DPM++ 2M Karras", "DPM++ SDE Karras", "DDIM", "Euler"}
	negatives    = []string{"", "worst quality, low quality", "easynegative, bad hands", "blurry, lowres, watermark"}
)

// baseModels and their shares of LoRA versions in the real release (paper §3.1: 41% SD 1.5,
// 31% Pony, 12% SDXL 1.0, 9% Flux.1; the remainder here is Illustrious).
var baseModels = []struct {
	name          string
	share         float64
	width, height int64
}{
	{"SD 1.5", 0.41, 512, 768},
	{"Pony", 0.31, 832, 1216},
	{"SDXL 1.0", 0.12, 1024, 1024},
	{"Flux.1 D", 0.09, 896, 1152},
	{"Illustrious", 0.07, 832, 1216},
}
